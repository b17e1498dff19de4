# lavaan reference for the Crawford-Ferguson rotation (rotation = "cf") of efa(): lavaan 0.6.14
# takes the family's kappa from rotation.args' orthomax.gamma (default 1) and ignores cf.gamma.
# Per case the rotated loadings (lambda) of the Holzinger-Swineford three-factor ML solution.
# Usage: Rscript tools/efa_cf_reference.R OUT_DIR   (writes hs_cf.json)
suppressMessages({library(lavaan); library(jsonlite)})
source("tools/reference_common.R")
out_dir <- commandArgs(trailingOnly = TRUE)[1]
X <- HolzingerSwineford1939[, paste0("x", 1:9)]
cases <- list(default = list(), orthomax_gamma_0.5 = list(orthomax.gamma = 0.5),
              cf_gamma_0.5 = list(cf.gamma = 0.5))
res <- list(data = "HolzingerSwineford1939.csv", variables = names(X), nfactors = 3,
            rotation = "cf", lavaan_version = as.character(packageVersion("lavaan")), cases = list())
for (name in names(cases)) {
  fit <- efa(X, nfactors = 3, rotation = "cf", rotation.args = cases[[name]], output = "lavaan")
  res$cases[[name]] <- list(rotation_args = cases[[name]],
                            lambda = unname(lavInspect(fit, "est")$lambda))
}
write_case(res, "hs_cf")
