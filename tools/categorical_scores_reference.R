# lavaan reference factor scores of categorical models: lavPredict(fit) (EBM, lavaan's default for
# ordered data) and lavPredict(fit, method = "ML"), every fitted row.
#
# scores_ml_<case>: the ML scores of three categorical_fit cases (their model_text, options and
# data). Where a row's likelihood keeps rising as a factor goes to plus or minus infinity (every
# indicator of it in its lowest or highest category) lavaan's optimizer stops at an arbitrary
# large value or gives NA; the file keeps what it gives.
#
# scores_<case>: EBM and ML scores of the models whose scores lavaan computes in its own way:
# the theta parameterization, free scale factors and latent means (groups with equal
# thresholds), exogenous covariates (with a regression among the factors, and numeric
# indicators), correlated residuals among ordered items (delta and theta), missing values
# (missing = "pairwise": a row's missing items left out), and a negative residual variance
# (lavaan gives NA). Each file keeps
# the model_text, data and options it was fitted with (the categorical_fit cases' or its own).
# Usage: Rscript tools/categorical_scores_reference.R DATA_DIR OUT_DIR
#   (DATA_DIR: semlang/datasets; OUT_DIR: tests/reference/categorical_fit, which has the cut data)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
hs3 <- read.csv(file.path(out_dir, "hs_cut3.csv"))
hs_mixed <- hs3
hs_mixed[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
datasets <- list(hs_cut3 = hs3, hs_binary = read.csv(file.path(out_dir, "hs_binary.csv")),
                 hs_mixed = hs_mixed, hs_cut3_holes = punch_holes(hs3))
fit_of <- function(cs) do.call("sem", c(list(model = cs$model_text, data = datasets[[cs$data]]),
                                        as.list(cs$options)))

for (name in c("hs3_wlsmv", "hs2_wlsmv", "mixed_cfa_wlsmv")) {
  cs <- fromJSON(file.path(out_dir, paste0(name, ".json")), simplifyVector = TRUE)
  fit <- fit_of(cs)
  res <- list(name = paste0("scores_ml_", name), case = name,
              about = paste("lavPredict(fit, method = \"ML\") of the", name, "model, every row"),
              scores_ml = safely(lavPredict(fit, method = "ML")))
  write_case(res, res$name)
  cat(res$name, "\n")
}

hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
items <- paste0("x", 1:9)
own <- list(
  hs3_covariate = list(
    about = "hs_cut3, 3-factor CFA with visual ~ ageyr and textual ~ visual (conditional.x)",
    data = "hs_cut3", options = list(ordered = items, estimator = "WLSMV"),
    model_text = paste(hs_model, "  visual ~ ageyr\n  textual ~ visual\n")),
  hs3_correlated = list(
    about = "hs_cut3, 3-factor CFA with the residuals of x2, x3 and of x4, x7 correlated",
    data = "hs_cut3", options = list(ordered = items, estimator = "WLSMV"),
    model_text = paste(hs_model, "  x2 ~~ x3\n  x4 ~~ x7\n")),
  hs3_correlated_theta = list(
    about = "as hs3_correlated, parameterization = theta",
    data = "hs_cut3", options = list(ordered = items, estimator = "WLSMV",
                                     parameterization = "theta"),
    model_text = paste(hs_model, "  x2 ~~ x3\n  x4 ~~ x7\n")),
  hs3_heywood = list(
    about = paste("hs_cut3, 3-factor CFA with the residuals of x7, x8 correlated: the residual",
                  "variance of x9 is negative, and lavaan gives no scores (NA, a warning)"),
    data = "hs_cut3", options = list(ordered = items, estimator = "WLSMV"),
    model_text = paste(hs_model, "  x2 ~~ x3\n  x7 ~~ x8\n")))
from_fit <- c("hs3_theta", "hs3_groups_thresholds", "hs3_groups_theta", "mixed_wlsmv",
              "hs3_pairwise")
for (name in c(from_fit, names(own))) {
  if (name %in% from_fit) {
    cs <- fromJSON(file.path(out_dir, paste0(name, ".json")), simplifyVector = TRUE)
    cs <- list(about = paste("the categorical_fit case", name, "-", cs$about), data = cs$data,
               options = cs$options, model_text = cs$model_text)
  } else {
    cs <- own[[name]]
  }
  fit <- fit_of(cs)
  res <- c(list(name = paste0("scores_", name)), cs,
           list(scores_ebm = safely(lavPredict(fit)),
                scores_ml = safely(lavPredict(fit, method = "ML"))))
  write_case(res, res$name)
  cat(res$name, "\n")
}
