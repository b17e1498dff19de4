# lavaan reference results for models of ordered-categorical data (thresholds, the delta and theta
# parameterizations, WLSMV and its kin, groups, a covariate, pairwise missing). Each file keeps
# parameterEstimates() with std.lv/std.all, the whole fitMeasures() vector, lavInspect(fit,
# "test"), the parameter table (free/ustart: lavaan's defaults) and lavaan's own sample
# statistics (wls.obs, the diagonal of wls.v, gamma for the small cases, th and cov of sampstat)
# and wls.est, so the model side can be checked apart from the sample statistics, and the text of
# summary(fit, fit.measures = TRUE, standardized = TRUE), for four cases the first 20 rows of
# lavPredict(fit) (EBM factor scores). The model is under `model_text` (its
# degrees of freedom depend on the data's categories, which a model file alone does not have).
# Usage: Rscript tools/categorical_fit_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
# The cut data sets are written to OUT_DIR as CSV (their definitions are below and in each file).
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

# ---- data --------------------------------------------------------------------------------------
hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
items <- paste0("x", 1:9)
# three categories: 1 below the 1/3 quantile, 2 up to the 2/3 quantile, 3 above (quantile type 7)
cut3 <- function(x) findInterval(x, quantile(x, c(1 / 3, 2 / 3)), left.open = TRUE) + 1L
cut2 <- function(x) as.integer(x > median(x))
hs3 <- hs[, c("id", "sex", "ageyr", "school", items)]
hs3[items] <- lapply(hs[items], cut3)
hs2 <- hs[, c("id", "sex", "ageyr", "school", items)]
hs2[items] <- lapply(hs[items], cut2)
write.csv(hs3, file.path(out_dir, "hs_cut3.csv"), row.names = FALSE)
write.csv(hs2, file.path(out_dir, "hs_binary.csv"), row.names = FALSE)
cut_text <- list(
  hs_cut3 = paste("HolzingerSwineford1939 x1..x9 each cut at its 1/3 and 2/3 quantiles (R type 7):",
                  "findInterval(x, quantile(x, c(1/3, 2/3)), left.open = TRUE) + 1 (categories",
                  "1, 2, 3); hs_cut3.csv"),
  hs_binary = "HolzingerSwineford1939 x1..x9 each as 1 above its median, else 0; hs_binary.csv",
  hs_cut3_holes = paste("hs_cut3 with holes:", holes_text),
  hs_mixed = "hs_cut3's x1..x3 (ordered) with the original x4..x9 (continuous) and ageyr",
  bfi = "bfi.csv as shipped (listwise deletion of incomplete rows)")
bfi <- read.csv(file.path(data_dir, "bfi.csv"))
hs_mixed <- hs3
hs_mixed[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
datasets <- list(hs_cut3 = hs3, hs_binary = hs2, hs_cut3_holes = punch_holes(hs3),
                 hs_mixed = hs_mixed, bfi = bfi)

# ---- models ------------------------------------------------------------------------------------
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
bfi_model <- "
  agree =~ A1 + A2 + A3 + A4 + A5
  consc =~ C1 + C2 + C3 + C4 + C5
  extra =~ E1 + E2 + E3 + E4 + E5
  neuro =~ N1 + N2 + N3 + N4 + N5
  open  =~ O1 + O2 + O3 + O4 + O5
"
mixed_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  visual ~ ageyr
  textual ~ visual
"
syntax_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  x1 | a*t1 + t2
  x2 | a*t1 + t2
  x3 | -0.5*t1 + t2
"
bfi_items <- grep("^[ACENO][1-5]$", names(bfi), value = TRUE)

case <- function(name, about, data, model, options = list(), gamma = TRUE)
  list(name = name, about = about, data = data, model = model, options = options, gamma = gamma)
cases <- list(
  case("hs3_wlsmv", "HS cut into 3 categories, 3-factor CFA, WLSMV (delta)", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMV")),
  case("hs3_wlsmv_stdlv", "as hs3_wlsmv with std.lv = TRUE", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMV", std.lv = TRUE)),
  case("hs3_theta", "as hs3_wlsmv, parameterization = theta", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMV", parameterization = "theta")),
  case("hs3_dwls", "as hs3_wlsmv, estimator DWLS", "hs_cut3", hs_model,
       list(ordered = items, estimator = "DWLS")),
  case("hs3_wls", "as hs3_wlsmv, estimator WLS", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLS")),
  case("hs3_uls", "as hs3_wlsmv, estimator ULS", "hs_cut3", hs_model,
       list(ordered = items, estimator = "ULS")),
  case("hs3_ulsmv", "as hs3_wlsmv, estimator ULSMV", "hs_cut3", hs_model,
       list(ordered = items, estimator = "ULSMV")),
  case("hs3_wlsm", "as hs3_wlsmv, estimator WLSM", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSM")),
  case("hs3_wlsmvs", "as hs3_wlsmv, estimator WLSMVS", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMVS")),
  case("hs3_syntax", "thresholds in the syntax: a label shared by x1 and x2, a fixed value",
       "hs_cut3", syntax_model, list(ordered = items, estimator = "WLSMV")),
  case("hs2_wlsmv", "HS binary items, 3-factor CFA, WLSMV", "hs_binary", hs_model,
       list(ordered = items, estimator = "WLSMV")),
  case("bfi_wlsmv", "the 25 bfi items, 5-factor CFA, WLSMV", "bfi", bfi_model,
       list(ordered = bfi_items, estimator = "WLSMV"), gamma = FALSE),
  case("mixed_cfa_wlsmv", "x1..x3 ordered, x4..x9 continuous, 3-factor CFA, WLSMV", "hs_mixed",
       hs_model, list(ordered = c("x1", "x2", "x3"), estimator = "WLSMV")),
  case("mixed_wlsmv", "x1..x3 ordered, x4..x9 continuous, covariate ageyr, WLSMV", "hs_mixed",
       mixed_model, list(ordered = c("x1", "x2", "x3"), estimator = "WLSMV")),
  case("hs3_groups_configural", "hs_cut3 by school, configural, WLSMV", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMV", group = "school")),
  case("hs3_groups_thresholds", "by school, equal thresholds and loadings", "hs_cut3", hs_model,
       list(ordered = items, estimator = "WLSMV", group = "school",
            group.equal = c("thresholds", "loadings"))),
  case("hs3_groups_intercepts", "by school, equal thresholds, loadings, intercepts", "hs_cut3",
       hs_model, list(ordered = items, estimator = "WLSMV", group = "school",
                      group.equal = c("thresholds", "loadings", "intercepts"))),
  case("hs3_groups_theta", "by school, equal thresholds and loadings, theta", "hs_cut3",
       hs_model, list(ordered = items, estimator = "WLSMV", group = "school",
                      parameterization = "theta", group.equal = c("thresholds", "loadings"))),
  case("hs3_pairwise", "hs_cut3 with holes, missing = pairwise, WLSMV", "hs_cut3_holes",
       hs_model, list(ordered = items, estimator = "WLSMV", missing = "pairwise")),
  case("hs3_ml_refused", "ML with ordered data (lavaan refuses)", "hs_cut3", hs_model,
       list(ordered = items, estimator = "ML"))
)

inspect_part <- function(fit, what) safely(lavInspect(fit, what))
run_case <- function(cs) {
  data <- datasets[[cs$data]]
  res <- list(name = cs$name, about = cs$about, fun = "sem", data = cs$data,
              data_text = cut_text[[cs$data]], model_text = cs$model, options = cs$options)
  out <- tryCatch(fit_with_warnings("sem", cs$model, data, cs$options),
                  error = function(e) list(error = conditionMessage(e)))
  if (!is.null(out$error)) {
    res$error <- out$error
    return(res)
  }
  fit <- out$fit
  res$warnings <- out$warnings
  res$nobs <- lavInspect(fit, "nobs")
  res$estimates <- estimates(fit)
  fm <- fitMeasures(fit)
  res$fit_measures <- as.list(setNames(finite(fm), names(fm)))
  res$test <- ser(lavInspect(fit, "test"))
  pt <- parTable(fit)
  res$partable <- ser(pt[, c("lhs", "op", "rhs", "group", "free", "ustart", "label", "plabel")])
  res$wls_obs <- inspect_part(fit, "wls.obs")
  res$wls_est <- inspect_part(fit, "wls.est")
  res$wls_v_diag <- tryCatch(ser(lapply(lav_list(lavInspect(fit, "wls.v")), diag)),
                              error = function(e) list(error = conditionMessage(e)))
  if (cs$gamma) {
    res$gamma <- tryCatch(ser(lav_list(lavInspect(fit, "gamma"))),
                          error = function(e) ser(lav_list(fit@SampleStats@NACOV)))
    if (cs$options$estimator == "WLS") res$wls_v <- ser(lav_list(lavInspect(fit, "wls.v")))
  }
  res$sampstat <- inspect_part(fit, "sampstat")
  res$summary <- capture.output(summary(fit, fit.measures = TRUE, standardized = TRUE))
  if (cs$name %in% c("hs3_wlsmv", "hs3_theta", "hs2_wlsmv", "mixed_cfa_wlsmv"))
    res$scores_ebm <- safely(head(lavPredict(fit), 20))  # lavaan's default for ordered data
  res$vcov <- ser(lavInspect(fit, "vcov"))
  res
}
lav_list <- function(x) if (is.list(x) && !is.matrix(x)) x else list(x)

fits <- list()
for (cs in cases) {
  res <- run_case(cs)
  write_case(res, cs$name)
  cat(cs$name, if (is.null(res$error)) "ok" else paste("error:", res$error), "\n")
  if (startsWith(cs$name, "hs3_groups_") && cs$name != "hs3_groups_theta")
    fits[[cs$name]] <- do.call("sem", c(list(model = cs$model, data = datasets[[cs$data]]),
                                        cs$options))
}

# the invariance sequence's scaled difference tests (lavTestLRT's default for WLSMV fits)
lrt <- lavTestLRT(fits$hs3_groups_configural, fits$hs3_groups_thresholds,
                  fits$hs3_groups_intercepts)
write_case(list(name = "hs3_groups_lrt",
                about = paste("lavTestLRT(configural, thresholds+loadings, +intercepts) of the",
                              "hs3_groups_* cases (WLSMV: method satorra.2000)"),
                models = c("hs3_groups_configural", "hs3_groups_thresholds",
                           "hs3_groups_intercepts"),
                heading = attr(lrt, "heading"), table = ser(as.data.frame(lrt))),
           "hs3_groups_lrt")
