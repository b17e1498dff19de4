# lavaan reference for efa() of continuous items under the estimators other than ML and ULS
# (lavaan's efa() fits them as sem() of one efa block): per case the rotated estimates with
# standard errors (parameterEstimates) and the fit measures of the Holzinger-Swineford items.
# Usage: Rscript tools/efa_robust_reference.R OUT_DIR   (writes hs_geomin_<estimator>.json)
suppressMessages({library(lavaan); library(jsonlite)})
source("tools/reference_common.R")
out_dir <- commandArgs(trailingOnly = TRUE)[1]
X <- HolzingerSwineford1939[, paste0("x", 1:9)]
for (est in c("MLR", "MLM", "GLS")) {
  fit <- efa(X, nfactors = 3, rotation = "geomin", estimator = est, output = "lavaan")
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op %in% c("=~", "~~"), c("lhs", "op", "rhs", "est", "se")]
  fm <- fitMeasures(fit)
  write_case(list(data = "HolzingerSwineford1939.csv", variables = names(X), nfactors = 3,
                  rotation = "geomin", estimator = est,
                  lavaan_version = as.character(packageVersion("lavaan")),
                  estimates = pe, fit_measures = list(names = names(fm), values = unname(unclass(fm)))),
             paste0("hs_geomin_", tolower(est)))
}
