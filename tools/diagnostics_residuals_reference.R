# lavaan reference results for the residual diagnostics: resid() of every type, lavResiduals()
# (its residuals, z-statistics and summary: SRMR/CRMR/RMR with standard errors, exact-fit tests
# and unbiased estimates), lavInspect(fit, what) for the inspect() names, and the R-squares.
# One JSON file per case in OUT_DIR, named residuals_<case>.json.
# Usage: Rscript tools/diagnostics_residuals_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
poldem <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
twolevel <- "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"; TL <- "Demo.twolevel.csv"

case <- function(name, about, fun, data, model, options = list(), prep = NULL, inspect = FALSE)
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       prep = prep, inspect = inspect)
cases <- list(
  case("hs_cfa", "HS three-factor CFA", "cfa", HS, hs, inspect = TRUE),
  case("poldem", "Political Democracy SEM", "sem", PD, poldem, inspect = TRUE),
  case("poldem_meanstructure", "Political Democracy SEM, meanstructure = TRUE", "sem", PD, poldem,
       list(meanstructure = TRUE)),
  case("hs_groups", "HS CFA by school (two groups)", "cfa", HS, hs, list(group = "school"),
       inspect = TRUE),
  case("hs_holes_fiml", "HS CFA with holes (hs_holes), missing = 'fiml'", "cfa", HS, hs,
       list(missing = "fiml"), prep = "hs_holes", inspect = TRUE),
  case("hs_mlr", "HS CFA, estimator MLR", "cfa", HS, hs, list(estimator = "MLR")),
  case("twolevel", "two-level model on Demo.twolevel (cluster = 'cluster')", "sem", TL, twolevel,
       list(cluster = "cluster")))

# ser(), finite() and safely(): tools/reference_common.R

res_types <- c("raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized")
inspect_names <- c("sampstat", "implied", "residuals", "cov.lv", "cor.lv", "cov.ov", "cor.ov",
                   "mean.ov", "mean.lv", "vcov", "vcov.std.all", "rsquare", "coef", "se", "free",
                   "start", "est", "nobs", "ngroups", "group.label", "converged", "iterations",
                   "patterns", "coverage", "information", "gradient", "lambda", "theta", "psi",
                   "beta", "nu", "alpha")

run_case <- function(cs) {
  d <- read.csv(file.path(data_dir, cs$data))
  if (identical(cs$prep, "hs_holes")) d <- punch_holes(d)
  fit <- do.call(cs$fun, c(list(model = cs$model, data = d), cs$options))
  out <- list(name = cs$name, about = cs$about, fun = cs$fun, data = cs$data, model = cs$model,
              options = if (length(cs$options)) cs$options else no_options, prep = cs$prep,
              prep_text = if (identical(cs$prep, "hs_holes")) holes_text else NULL,
              lavaan_version = as.character(packageVersion("lavaan")),
              ngroups = lavInspect(fit, "ngroups"),
              group_label = I(lavInspect(fit, "group.label")),
              converged = lavInspect(fit, "converged"))
  out$resid <- setNames(lapply(res_types, function(t) safely(resid(fit, type = t))), res_types)
  out$lavResiduals <- setNames(lapply(c("cor.bentler", "cor.bollen", "raw"), function(t)
    safely(lavResiduals(fit, type = t))), c("cor.bentler", "cor.bollen", "raw"))
  out$rsquare <- safely(lavInspect(fit, "rsquare"))
  out$summary_rsquare <- I(capture.output(summary(fit, rsquare = TRUE)))
  out$coef <- safely(coef(fit))
  fm <- fitMeasures(fit)
  fm <- fm[intersect(c("logl", "aic", "bic", "srmr", "crmr"), names(fm))]
  out$fit_measures <- setNames(as.list(finite(fm)), names(fm))
  if (cs$inspect) {
    # lavaan 0.6.14 has no lavInspect names for single model matrices: they are taken from "est"
    one_matrix <- function(w) {
      est <- lavInspect(fit, "est")
      if (lavInspect(fit, "ngroups") > 1) lapply(est, function(m) m[[w]]) else est[[w]]
    }
    out$inspect <- setNames(lapply(inspect_names, function(w) safely(
      if (w %in% c("lambda", "theta", "psi", "beta", "nu", "alpha")) one_matrix(w)
      else lavInspect(fit, w))), inspect_names)
  }
  write_case(out, paste0("residuals_", cs$name))
}
for (cs in cases) run_case(cs)
