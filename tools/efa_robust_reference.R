# lavaan reference for efa() of continuous items under the estimators other than ML and ULS
# (lavaan's efa() fits them as sem() of one efa block): per case the rotated estimates with
# standard errors (parameterEstimates) and the fit measures of the Holzinger-Swineford items.
# With missing = "fiml" on the data with holes of reference_common.R (lavaan passes efa()'s other
# options to sem()). Usage: Rscript tools/efa_robust_reference.R OUT_DIR (writes hs_geomin_*.json)
suppressMessages({library(lavaan); library(jsonlite)})
source("tools/reference_common.R")
out_dir <- commandArgs(trailingOnly = TRUE)[1]
X <- HolzingerSwineford1939[, paste0("x", 1:9)]
cases <- list(mlr = list(estimator = "MLR"), mlm = list(estimator = "MLM"),
              gls = list(estimator = "GLS"), ml_fiml = list(estimator = "ML", missing = "fiml"))
for (name in names(cases)) {
  est <- cases[[name]]$estimator
  data <- if (is.null(cases[[name]]$missing)) X else punch_holes(X)
  fit <- do.call(efa, c(list(data = data, nfactors = 3, rotation = "geomin", output = "lavaan"),
                        cases[[name]]))
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op %in% c("=~", "~~"), c("lhs", "op", "rhs", "est", "se")]
  fm <- fitMeasures(fit)
  write_case(list(data = "HolzingerSwineford1939.csv", variables = names(X), nfactors = 3,
                  rotation = "geomin", estimator = est, options = cases[[name]],
                  holes = if (is.null(cases[[name]]$missing)) NULL else holes_text,
                  lavaan_version = as.character(packageVersion("lavaan")),
                  estimates = pe, fit_measures = list(names = names(fm), values = unname(unclass(fm)))),
             paste0("hs_geomin_", name))
}
