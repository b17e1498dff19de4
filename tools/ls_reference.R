# lavaan reference results for the least-squares estimators (GLS, WLS, DWLS, ULS) on continuous
# data with observed exogenous covariates (a MIMIC model, one and two groups, and a path model),
# under lavaan's default fixed.x (FALSE for these estimators) and with fixed.x = TRUE; and their
# robust variants (ULSM, ULSMV, ULSMVS, WLSM, WLSMV, WLSMVS; ULS or DWLS with se = "robust.sem"
# and a scaled test), with the combinations lavaan refuses (GLS and WLS with robust options).
# Every file keeps the whole fitMeasures() vector and every element of lavInspect(fit, "test");
# a refused case keeps lavaan's error text instead.
# Usage: Rscript tools/ls_reference.R DATA_DIR OUT_DIR [CASE ...]   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

# ---- models ------------------------------------------------------------------------------------
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
mimic <- "
  visual =~ x1 + x2 + x3
  visual ~ ageyr + sex
"
path <- "
  y1 ~ x1 + x2
  y5 ~ y1 + x1 + x3
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"

bases <- list(
  hs_mimic = list(about = "HS MIMIC model (visual on ageyr and sex)", fun = "sem", data = HS,
                  model = mimic, options = list()),
  hs_mimic_groups = list(about = "HS MIMIC model by school", fun = "sem", data = HS,
                         model = mimic, options = list(group = "school")),
  poldem_path = list(about = "Political Democracy path model (y1 on x1, x2; y5 on y1, x1, x3)",
                     fun = "sem", data = PD, model = path, options = list()),
  hs_cfa = list(about = "HS three-factor CFA", fun = "cfa", data = HS, model = hs,
                options = list()),
  hs_groups = list(about = "HS CFA by school, equal loadings and intercepts", fun = "cfa",
                   data = HS, model = hs,
                   options = list(group = "school", group.equal = c("loadings", "intercepts"))))

on <- function(base, name, about, options) {
  b <- bases[[base]]
  list(name = name, about = paste0(b$about, ", ", about), fun = b$fun, data = b$data,
       model = b$model, options = c(b$options, options))
}

# ---- cases -------------------------------------------------------------------------------------
ls_estimators <- c("GLS", "WLS", "DWLS", "ULS")
covariate_cases <- unlist(lapply(c("hs_mimic", "hs_mimic_groups", "poldem_path"), function(base)
  lapply(ls_estimators, function(est)
    on(base, paste0(base, "_", est), paste0("estimator ", est, " (lavaan's default fixed.x = FALSE)"),
       list(estimator = est)))), recursive = FALSE)
fixed_x_cases <- unlist(lapply(c("hs_mimic", "poldem_path"), function(base)
  lapply(ls_estimators, function(est)
    on(base, paste0(base, "_", est, "_fixed.x"), paste0("estimator ", est, ", fixed.x = TRUE"),
       list(estimator = est, fixed.x = TRUE)))), recursive = FALSE)

robust_estimators <- c("ULSM", "ULSMV", "ULSMVS", "WLSM", "WLSMV", "WLSMVS")
robust_cases <- unlist(lapply(c("hs_cfa", "hs_groups", "hs_mimic", "poldem_path"), function(base)
  lapply(robust_estimators, function(est)
    on(base, paste0(base, "_", est), paste0("estimator ", est, " with lavaan's own se/test defaults"),
       list(estimator = est)))), recursive = FALSE)
robust_test_cases <- unlist(lapply(c("ULS", "DWLS"), function(est)
  lapply(c("satorra.bentler", "scaled.shifted", "mean.var.adjusted"), function(test)
    on("hs_cfa", paste0("hs_cfa_", est, "_robust_", test),
       paste0("estimator ", est, ", se = 'robust.sem', test = '", test, "'"),
       list(estimator = est, se = "robust.sem", test = test)))), recursive = FALSE)
robust_fixed_x <- list(
  on("hs_mimic", "hs_mimic_WLSMV_fixed.x", "estimator WLSMV, fixed.x = TRUE",
     list(estimator = "WLSMV", fixed.x = TRUE)),
  on("hs_mimic", "hs_mimic_ULSM_fixed.x", "estimator ULSM, fixed.x = TRUE",
     list(estimator = "ULSM", fixed.x = TRUE)))

error_cases <- list(
  on("hs_cfa", "error_hs_cfa_GLS_robust.sem", "estimator GLS, se = 'robust.sem'",
     list(estimator = "GLS", se = "robust.sem")),
  on("hs_cfa", "error_hs_cfa_WLS_satorra.bentler", "estimator WLS, test = 'satorra.bentler'",
     list(estimator = "WLS", test = "satorra.bentler")),
  on("hs_cfa", "error_hs_cfa_DWLS_yuan.bentler", "estimator DWLS, test = 'yuan.bentler'",
     list(estimator = "DWLS", test = "yuan.bentler")))

cases <- c(covariate_cases, fixed_x_cases, robust_cases, robust_test_cases, robust_fixed_x,
           error_cases)

# ---- helpers -----------------------------------------------------------------------------------
json_options <- function(opts) {
  if (!length(opts)) return(no_options)
  for (key in c("group.equal", "test")) {
    if (!is.null(opts[[key]]) && length(opts[[key]]) > 1) opts[[key]] <- I(as.character(opts[[key]]))
  }
  opts
}
finite_or_na <- function(x) { x <- unclass(x); x[!is.finite(x)] <- NA; x }

used_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keys <- c("estimator", "se", "test", "information", "observed.information", "h1.information",
            "likelihood", "missing", "meanstructure", "fixed.x")
  setNames(lapply(keys, function(k) { v <- o[[k]]; if (length(v) > 1) I(v) else v }), keys)
}

test_fields <- c("test", "stat", "stat.group", "df", "refdistr", "pvalue", "scaling.factor",
                 "shift.parameter", "trace.UGamma", "trace.UGamma2", "trace.UGamma3",
                 "scaled.test.stat", "scaled.test", "label")
tests_of <- function(fit) lapply(lavInspect(fit, "test"), function(t) {
  out <- list()
  for (k in intersect(test_fields, names(t))) {
    v <- t[[k]]
    if (is.numeric(v)) v <- finite_or_na(v)
    out[[k]] <- if (k == "stat.group") I(v) else v
  }
  out
})

run_case <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  res <- list(name = case$name, about = case$about, fun = case$fun, data = case$data,
              prep = NA, prep_text = NA, model = case$model, options = json_options(case$options),
              lavaan_version = as.character(packageVersion("lavaan")))
  warns <- character(0)
  r <- tryCatch(list(fit = withCallingHandlers(
      do.call(case$fun, c(list(model = case$model, data = data), case$options)),
      warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })),
    error = function(e) list(error = conditionMessage(e)))
  warns <- unique(trimws(warns))
  if (!is.null(r$error)) return(c(res, list(error = trimws(r$error), warnings = I(warns))))
  fit <- r$fit
  res <- c(res, list(nobs = I(lavInspect(fit, "nobs")), converged = lavInspect(fit, "converged"),
                     iterations = lavInspect(fit, "iterations"), warnings = I(warns),
                     lavaan_options = used_options(fit)))
  if (lavInspect(fit, "ngroups") > 1) res$group_labels <- I(lavInspect(fit, "group.label"))
  c(res, list(estimates = estimates(fit),
              fit_measures = as.list(finite_or_na(fitMeasures(fit))),
              tests = tests_of(fit)))
}

# ---- run ---------------------------------------------------------------------------------------
only <- if (length(args) > 2) args[-(1:2)] else NULL
for (case in cases) {
  if (!is.null(only) && !(case$name %in% only)) next
  res <- run_case(case)
  write_case(res, case$name)
  if (!is.null(res$error)) {
    cat(sprintf("%-34s ERROR %s\n", case$name, gsub("\\s+", " ", res$error)))
    next
  }
  fm <- res$fit_measures
  cat(sprintf("%-34s conv %s chisq %9.4f scaled %9.4f df %3s se %-11s test %-30s warnings %d\n",
              case$name, res$converged, fm$chisq,
              if (is.null(fm$chisq.scaled)) NA else fm$chisq.scaled, fm$df,
              res$lavaan_options$se, paste(res$lavaan_options$test, collapse = ","),
              length(res$warnings)))
  for (w in res$warnings) cat("   warning:", gsub("\\s+", " ", w), "\n")
}
