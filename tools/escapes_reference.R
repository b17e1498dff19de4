# lavaan reference results for the escapes of a new user: a model with no free parameter (every
# value fixed; lavaan fits it and reports its chi-square), and what lavaan does with a two-level
# model fitted to very few clusters (an error with 2 clusters, no convergence with 8) and with a
# bootstrap of 1 or 2 draws (an error, or intervals from 2 draws).
# Usage: Rscript tools/escapes_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
twolevel <- read.csv(file.path(data_dir, "Demo.twolevel.csv"))

# ---- no free parameter ----------------------------------------------------------------------
# lavaan 0.6.14 does not fit a model without free parameters ("did not run", test "none", no fit
# measures). Its chi-square and log-likelihoods at those values come from the same model with the
# factor variance free, started at its value and not optimized (optim.method = "none",
# test = "standard"): the same implied moments, so the same chi-square, log-likelihoods, baseline
# and SRMR (not the same df: that model has one free parameter).
nofree <- "
  visual =~ 1*x1 + 1*x2 + 1*x3
  visual ~~ 0.5*visual
  x1 ~~ 0.8*x1
  x2 ~~ 0.8*x2
  x3 ~~ 0.8*x3
"
at_start <- sub("0.5*visual", "start(0.5)*visual", nofree, fixed = TRUE)
lavaan_fixed <- fit_with_warnings("cfa", nofree, hs, no_options)$fit
evaluated <- list(optim.method = "none", test = "standard")
res <- fit_with_warnings("cfa", at_start, hs, evaluated)
fit <- res$fit
same <- c("chisq", "logl", "unrestricted.logl", "baseline.chisq", "baseline.df", "srmr")
write_case(list(
  name = "hs_no_free_parameters",
  about = paste("a one-factor model of x1-x3 with every loading and variance fixed (model);",
                "lavaan's numbers are those of evaluated_model (the factor variance free, at its",
                "start value 0.5, not optimized: options)"),
  fun = "cfa", data = "HolzingerSwineford1939.csv", prep = NULL, model = nofree,
  evaluated_model = at_start, options = evaluated,
  lavaan_version = as.character(packageVersion("lavaan")),
  lavaan_fixed_npar = lavInspect(lavaan_fixed, "npar"),
  lavaan_fixed_test = lavInspect(lavaan_fixed, "test")[[1]]$test,
  nobs = lavInspect(fit, "nobs"), warnings = res$warnings,
  fit_measures = as.list(fitMeasures(fit, same))
), "hs_no_free_parameters")

# ---- two-level model, few clusters ----------------------------------------------------------
twolevel_model <- "
  level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
  level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
"
few <- list()
for (k in c(2L, 8L)) {
  d <- twolevel[twolevel$cluster %in% sort(unique(twolevel$cluster))[seq_len(k)], ]
  out <- tryCatch({
    r <- fit_with_warnings("sem", twolevel_model, d, list(cluster = "cluster"))
    list(error = NULL, converged = lavInspect(r$fit, "converged"),
         iterations = lavInspect(r$fit, "iterations"), warnings = r$warnings)
  }, error = function(e) list(error = conditionMessage(e)))
  few[[paste0("clusters_", k)]] <- out
}
write_case(list(
  name = "twolevel_few_clusters",
  about = "the two-level model of Demo.twolevel fitted to its first 2 and its first 8 clusters",
  model = twolevel_model, lavaan_version = as.character(packageVersion("lavaan")),
  cases = few
), "twolevel_few_clusters")
