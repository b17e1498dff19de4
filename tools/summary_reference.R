# lavaan's summary(fit, fit.measures = TRUE) text for the continuous-data estimator cases: each
# case is refitted from its reference JSON (tests/reference/estimators/<case>.json: fun, data,
# prep, model, options, seed) and the printed summary is written to
# tests/reference/estimators/summaries/<case>.txt.
# Usage: Rscript tools/summary_reference.R DATA_DIR REFERENCE_DIR
#   (DATA_DIR: semlang/datasets; REFERENCE_DIR: tests/reference/estimators)
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; ref_dir <- args[2]
out_dir <- file.path(ref_dir, "summaries")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

cases <- c(
  paste0("hs_cfa_", c("ML", "MLM", "MLMV", "MLMVS", "MLF", "MLR", "GLS", "WLS", "DWLS", "ULS",
                      "ML_wishart", "MLM_wishart", "ML_normal")),
  paste0("poldem_", c("ML", "MLM", "MLR", "ULS", "DWLS")),
  paste0("growth_", c("MLMV", "MLR", "WLS")),
  paste0("hs_groups_", c("ML", "MLM", "MLMV", "MLMVS", "MLR", "MLF", "GLS", "ULS", "DWLS", "WLS",
                         "ML_wishart", "test_scaled.shifted", "test_satorra.bentler")),
  paste0("hs_test_", c("three", "scaled.shifted", "mean.var.adjusted", "yuan.bentler",
                       "yuan.bentler.mplus", "browne.residual.adf", "none")),
  paste0("hs_se_", c("robust.sem_observed", "robust.huber.white_expected", "first.order",
                     "none", "robust")),
  paste0("hs_holes_fiml_", c("ML", "MLR", "MLF")), "hs_holes_se_robust",
  paste0("twolevel_cluster_", c("ML", "MLM", "MLR", "ML_robust_cluster")),
  "hs_bollen_stine"
)

# the data preparations named in the references' "prep" field
preps <- list(
  hs_holes = function(d) {
    i <- seq_len(nrow(d))
    d$x1[i %% 7 == 0] <- NA
    d$x4[i %% 9 == 2] <- NA
    d$x8[i %% 11 == 4] <- NA
    d$x3[i %% 13 == 1 & i %% 2 == 1] <- NA
    d
  }
)

for (name in cases) {
  ref <- fromJSON(file.path(ref_dir, paste0(name, ".json")), simplifyVector = TRUE)
  data <- read.csv(file.path(data_dir, ref$data))
  if (!is.null(ref$prep) && !is.na(ref$prep)) data <- preps[[ref$prep]](data)
  options <- as.list(ref$options)
  if (!is.null(ref$seed)) set.seed(ref$seed)
  fit <- do.call(ref$fun, c(list(model = ref$model, data = data), options))
  text <- capture.output(summary(fit, fit.measures = TRUE))
  writeLines(text, file.path(out_dir, paste0(name, ".txt")))
  cat(name, "\n")
}
