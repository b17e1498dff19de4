# lavaan 0.6.14 / semTools references for sam()'s measurement blocks and for the measurement
# invariance sequence.
#   sam_blocks.json        sam() (local) on Political Democracy with residual covariances across
#                          dem60 and dem65: lavaan's default blocks (one per latent variable) and
#                          mm.list joining dem60 and dem65; every row (est, se; NA = not estimated)
#   invariance_hs_ml.json  configural / metric / scalar / strict CFA of Holzinger-Swineford by
#   invariance_hs_mlr.json school (ML and MLR): each step's fit measures, lavTestLRT of the
#                          sequence and semTools::compareFit's nested table and fit differences
# Usage: Rscript tools/diagnostics_sam_invariance_reference.R DATA_DIR OUT_DIR
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
suppressMessages(library(semTools))

# ---- sam(): the measurement blocks -------------------------------------------------------------
poldem <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
pd <- read.csv(file.path(data_dir, "PoliticalDemocracy.csv"))
sam_rows <- function(fit) {
  pe <- parameterEstimates(fit, remove.step1 = FALSE)
  pe[, c("lhs", "op", "rhs", "est", "se")]
}
mm <- list("ind60", c("dem60", "dem65"))
write_case(list(
  model = poldem, data = "PoliticalDemocracy.csv", lavaan_version = as.character(packageVersion("lavaan")),
  cases = list(
    list(name = "default", mm_list = NULL, estimates = sam_rows(sam(poldem, data = pd))),
    list(name = "dem60_dem65_joined", mm_list = mm, estimates = sam_rows(sam(poldem, data = pd, mm.list = mm))))
), "sam_blocks")

# ---- the invariance sequence -------------------------------------------------------------------
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
hsd <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
steps <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
inv_measures <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
                  "chisq.scaling.factor", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
                  "cfi.scaled", "tli.scaled", "rmsea.scaled", "cfi.robust", "tli.robust",
                  "rmsea.robust")
for (est in c("ML", "MLR")) {
  fits <- lapply(steps, function(eq) cfa(hs, data = hsd, group = "school", estimator = est,
                                         group.equal = eq))
  fm <- lapply(fits, function(f) { v <- fitMeasures(f); as.list(v[intersect(inv_measures, names(v))]) })
  lrt <- as.data.frame(do.call(lavTestLRT, c(unname(fits), list(model.names = names(fits)))))
  lrt$step <- rownames(lrt)
  cf <- compareFit(fits, nested = TRUE)
  nested <- cf@nested; nested$comparison <- rownames(nested)
  diff <- cf@fit.diff; diff$comparison <- rownames(diff)
  write_case(list(
    model = hs, data = "HolzingerSwineford1939.csv", group = "school", estimator = est,
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    steps = lapply(steps, function(eq) as.list(setdiff(eq, ""))),
    fit_measures = fm, lrt = lrt, compare_nested = nested, compare_fit_diff = diff,
    compare_fit = { x <- cf@fit; x$step <- rownames(x); x }
  ), paste0("invariance_hs_", tolower(est)))
}
