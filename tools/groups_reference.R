# lavaan reference results for several groups, missing data by FIML, robust (MLR) standard
# errors and scaled tests, and likelihood-ratio tests: the values tests/test_groups.py,
# tests/test_mlr.py, tests/test_fiml_more.py and tests/test_lrt.py hold semlang against.
# Same layout as lavaan_reference.R (one JSON file per case), plus `prep` (the name of a data
# preparation the Python tests repeat, see `preps` below), `prep_text`, `group_labels`,
# `warnings` and, for MLR, the scaled and robust fit measures.
# Usage: Rscript groups_reference.R DATA_DIR OUT_DIR
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

# ---- models ----------------------------------------------------------------------------------
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
hs_rescov <- paste0(hs, "  x1 ~~ x9\n  x4 ~~ x7\n")
hs_sem <- paste0(hs, "  speed ~ visual + textual\n")
hs_cvec <- "
  visual  =~ x1 + c(l2, l2)*x2 + c(l3a, l3b)*x3
  textual =~ x4 + x5 + c(NA, 1)*x6
  speed   =~ x7 + x8 + x9
  x1 ~~ c(v1, v1)*x1
  x4 ~ c(i4, i4)*1
  x5 ~ c(i5, i5)*1
  textual ~ c(0, NA)*1
  diff := l3a - l3b
"
hs_shared <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  x7 ~~ r*x7
  x8 ~~ r*x8
"
hs_fixed_in_one <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + c(1, NA)*x5 + x6
  speed   =~ x7 + x8 + x9
"
mimic <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + agemo
"
mimic_sex <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + sex
"
poldem <- "
  # measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  # regressions
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  # residual correlations
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
bfi5 <- "
  agree =~ A1 + A2 + A3 + A4 + A5
  consc =~ C1 + C2 + C3 + C4 + C5
  extra =~ E1 + E2 + E3 + E4 + E5
  neuro =~ N1 + N2 + N3 + N4 + N5
  open  =~ O1 + O2 + O3 + O4 + O5
"

# ---- data preparations (tests/test_*.py repeat each one by name) ------------------------------
hs_vars <- paste0("x", 1:9)
preps <- list(
  hs_holes = list(text = paste(
    "with i the 1-based row number: x1 missing where i %% 7 == 0, x4 where i %% 9 == 2,",
    "x8 where i %% 11 == 4, x3 where i %% 13 == 1 and i is odd"), fun = punch_holes),
  hs_holes_empty = list(text = paste(
    "hs_holes, and rows 3, 50 and 200 missing on all of x1-x9"),
    fun = function(d) { d <- punch_holes(d); d[c(3, 50, 200), hs_vars] <- NA; d }),
  hs_missing_x = list(text = "ageyr missing in rows 1-10, x1 missing in rows 11-20",
    fun = function(d) { d$ageyr[1:10] <- NA; d$x1[11:20] <- NA; d }),
  hs_school_na = list(text = "school missing in rows 5 and 9",
    fun = function(d) { d$school[c(5, 9)] <- NA; d }),
  hs_school_sex = list(text = "g4 = paste(school, sex): four groups, order of first appearance",
    fun = function(d) { d$g4 <- paste(d$school, d$sex); d }),
  poldem_halves = list(text = "half = 'first' for rows 1-38, 'second' for rows 39-75",
    fun = function(d) { d$half <- ifelse(seq_len(nrow(d)) <= 38, "first", "second"); d })
)

# ---- cases -----------------------------------------------------------------------------------
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"
case <- function(name, about, model, options, fun = "cfa", data = HS, prep = NULL) {
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       prep = prep)
}
school <- function(...) c(list(group = "school"), list(...))
mlr <- list(estimator = "MLR")
cases <- list(
  # group_equal words, one at a time and together
  case("hs_configural", "HS CFA by school, no equality constraints", hs, school()),
  case("hs_loadings", "equal loadings", hs, school(group.equal = "loadings")),
  case("hs_intercepts_only", "equal intercepts only (latent means freed in group 2)", hs,
       school(group.equal = "intercepts")),
  case("hs_strong", "equal loadings and intercepts", hs,
       school(group.equal = c("loadings", "intercepts"))),
  case("hs_means", "equal loadings, intercepts and latent means", hs,
       school(group.equal = c("loadings", "intercepts", "means"))),
  case("hs_residuals", "equal loadings and residual variances", hs,
       school(group.equal = c("loadings", "residuals"))),
  case("hs_lv_variances", "equal loadings and factor variances", hs,
       school(group.equal = c("loadings", "lv.variances"))),
  case("hs_lv_covariances", "equal factor covariances", hs,
       school(group.equal = "lv.covariances")),
  case("hs_all_equal", "every word at once", hs,
       school(group.equal = c("loadings", "intercepts", "means", "residuals", "lv.variances",
                              "lv.covariances"))),
  case("hs_residual_covariances", "two residual covariances, equal across groups", hs_rescov,
       school(group.equal = "residual.covariances")),
  case("hs_regressions", "speed on visual and textual, equal loadings and regressions", hs_sem,
       school(group.equal = c("loadings", "regressions")), fun = "sem"),
  case("hs_partial", "equal loadings and intercepts but visual=~x2 and x7~1", hs,
       school(group.equal = c("loadings", "intercepts"),
              group.partial = c("visual=~x2", "x7~1"))),
  case("hs_stdlv_loadings", "std.lv with equal loadings (factor variances free in group 2)", hs,
       school(group.equal = "loadings", std.lv = TRUE)),
  case("hs_cvector", "c() modifiers: per-group labels and values, equal intercepts by label, the textual mean free in group 2, a defined difference", hs_cvec,
       school()),
  case("hs_shared_labels", "one label for all groups means equality across groups", hs_shared,
       school()),
  case("hs_fixed_in_one", "x5 fixed to 1 in group 1, free in group 2, equal loadings: lavaan fixes it in both",
       hs_fixed_in_one, school(group.equal = "loadings")),
  case("mimic_fixedx_false", "MIMIC by school with fixed.x = FALSE: the covariates' means and variances are not intercepts or residuals",
       mimic, school(group.equal = c("loadings", "intercepts", "residuals", "regressions"),
                     fixed.x = FALSE), fun = "sem"),
  case("hs_four_groups", "four groups (school x sex), equal loadings", hs,
       list(group = "g4", group.equal = "loadings"), prep = "hs_school_sex"),
  case("poldem_halves", "the Political Democracy SEM in two halves of the rows, equal loadings and regressions; a, b, c shared across groups",
       poldem, list(group = "half", group.equal = c("loadings", "regressions")), fun = "sem",
       data = PD, prep = "poldem_halves"),
  case("hs_school_na", "rows without a group are dropped (lavaan warns)", hs, school(),
       prep = "hs_school_na"),
  # missing data
  case("hs_fiml_complete", "missing = 'ml' on complete data", hs, list(missing = "ml")),
  case("hs_fiml", "FIML on HS with holes", hs, list(missing = "ml"), prep = "hs_holes"),
  case("hs_fiml_empty", "FIML with three empty rows (dropped)", hs, list(missing = "ml"),
       prep = "hs_holes_empty"),
  case("hs_fiml_groups", "multi-group FIML, equal loadings", hs,
       school(group.equal = "loadings", missing = "ml"), prep = "hs_holes"),
  case("mimic_fiml_missing_x", "FIML with a fixed.x covariate missing: lavaan drops those rows",
       mimic, list(missing = "ml"), fun = "sem", prep = "hs_missing_x"),
  case("hs_listwise", "listwise deletion of the rows with holes", hs, no_options,
       prep = "hs_holes"),
  # MLR
  case("hs_cfa_mlr", "HS CFA, MLR", hs, mlr),
  case("hs_cfa_mlr_meanstructure", "HS CFA, MLR with a mean structure", hs,
       c(mlr, list(meanstructure = TRUE))),
  case("hs_cfa_mlr_expected", "HS CFA, MLR with information = 'expected' (bread and test)", hs,
       c(mlr, list(information = "expected"))),
  case("hs_cfa_robust_se", "HS CFA, ML with se = 'robust.huber.white' (expected information, standard test)",
       hs, list(se = "robust.huber.white")),
  case("saturated_mlr", "a one-factor model of three items (df = 0), MLR", "visual =~ x1 + x2 + x3", mlr),
  case("mimic_mlr", "MIMIC with fixed.x covariates, MLR", mimic_sex, mlr, fun = "sem"),
  case("hs_fiml_mlr", "FIML with holes, MLR", hs, c(mlr, list(missing = "ml")), prep = "hs_holes"),
  case("mimic_fiml_mlr", "FIML with fixed.x covariates (rows missing one dropped), MLR", mimic,
       c(mlr, list(missing = "ml")), fun = "sem", prep = "hs_missing_x"),
  case("bfi_fiml_mlr", "Big Five 25 items, FIML, MLR", bfi5, c(mlr, list(missing = "ml")),
       data = "bfi.csv"),
  case("hs_configural_mlr", "configural by school, MLR", hs, school(estimator = "MLR")),
  case("hs_loadings_mlr", "equal loadings by school, MLR", hs,
       school(group.equal = "loadings", estimator = "MLR")),
  case("hs_strong_mlr", "equal loadings and intercepts by school, MLR", hs,
       school(group.equal = c("loadings", "intercepts"), estimator = "MLR")),
  case("hs_fiml_groups_mlr", "multi-group FIML with holes, equal loadings, MLR", hs,
       school(group.equal = "loadings", missing = "ml", estimator = "MLR"), prep = "hs_holes"),
  case("poldem_halves_mlr", "poldem_halves with MLR", poldem,
       list(group = "half", group.equal = c("loadings", "regressions"), estimator = "MLR"),
       fun = "sem", data = PD, prep = "poldem_halves")
)
lrts <- list(
  list(name = "lrt_invariance", about = "lavTestLRT(configural, loadings, strong), ML",
       models = c("hs_configural", "hs_loadings", "hs_strong")),
  list(name = "lrt_invariance_unsorted", about = "lavTestLRT(strong, configural, loadings): lavaan sorts by df",
       models = c("hs_strong", "hs_configural", "hs_loadings")),
  list(name = "lrt_invariance_mlr", about = "lavTestLRT(configural, loadings, strong), MLR: scaled difference (satorra.bentler.2001)",
       models = c("hs_configural_mlr", "hs_loadings_mlr", "hs_strong_mlr")),
  list(name = "lrt_means", about = "lavTestLRT(strong, means), ML", models = c("hs_strong", "hs_means"))
)

# ---- run -------------------------------------------------------------------------------------
fit_case <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  if (!is.null(case$prep)) data <- preps[[case$prep]]$fun(data)
  fit_with_warnings(case$fun, case$model, data, case$options)
}

fit_measures <- function(fit) {
  all <- fitMeasures(fit)
  fm <- as.list(all[intersect(fm_names, names(all))])
  if (lavInspect(fit, "options")$test != "standard") {
    fm$scaling.factor <- all[["chisq.scaling.factor"]]
    robust <- grep("(\\.scaled|\\.robust|scaling\\.factor)", names(all), value = TRUE)
    fm <- c(fm, as.list(all[robust]))
  }
  fm
}

json_options <- function(opts) {
  if (!length(opts)) return(no_options)
  for (key in c("group.equal", "group.partial")) {
    if (!is.null(opts[[key]])) opts[[key]] <- I(opts[[key]])
  }
  opts
}

fits <- list()
for (case in cases) {
  r <- fit_case(case); fit <- r$fit
  fits[[case$name]] <- fit
  fm <- fit_measures(fit)
  res <- list(name = case$name, about = case$about, fun = case$fun, data = case$data,
              prep = if (is.null(case$prep)) NA else case$prep,
              prep_text = if (is.null(case$prep)) NA else preps[[case$prep]]$text,
              model = case$model, options = json_options(case$options),
              lavaan_version = as.character(packageVersion("lavaan")),
              nobs = I(lavInspect(fit, "nobs")), group_labels = I(lavInspect(fit, "group.label")),
              converged = lavInspect(fit, "converged"), warnings = I(r$warnings),
              estimates = estimates(fit), fit_measures = fm)
  write_case(res, case$name)
  cat(sprintf("%-26s chisq %10.4f df %3d nobs %s warnings %d\n", case$name, fm$chisq,
              as.integer(fm$df), paste(lavInspect(fit, "nobs"), collapse = "+"), length(r$warnings)))
  for (w in r$warnings) cat("   warning:", w, "\n")
}

fits_env <- list2env(fits)
for (lrt in lrts) {
  call_text <- sprintf("lavTestLRT(%s)", paste(lrt$models, collapse = ", "))
  t <- eval(parse(text = call_text), envir = fits_env)
  df <- as.data.frame(t)
  rows <- cbind(model = rownames(df), df, stringsAsFactors = FALSE)
  rownames(rows) <- NULL
  write_case(list(name = lrt$name, about = lrt$about, call = call_text,
                  lavaan_version = as.character(packageVersion("lavaan")),
                  heading = attr(t, "heading"), columns = I(names(df)), rows = rows), lrt$name)
  cat(lrt$name, "\n"); print(t)
}
