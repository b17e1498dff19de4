# lavaan reference results for single-level ML fitting: equality constraints (linear, nonlinear),
# inequality constraints (bounds, general, on defined parameters), lower()/upper() bounds, labels
# of fixed parameters in defined parameters, observed exogenous covariates with fixed.x TRUE and
# FALSE (with and without mean structure, and under FIML), and standard errors from the observed
# information. Every estimates row has est, se, z, pvalue, ci.lower, ci.upper, std.lv, std.all.
# Usage: Rscript tools/fitting_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

row_columns <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower",
                 "ci.upper", "std.lv", "std.all")
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"; GROWTH <- "Demo.growth.csv"

# ---- models ------------------------------------------------------------------------------------
hs_labelled <- function(constraint) paste0("
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  ", constraint, "
")
mediation <- function(extra = "") paste0("
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  indirect := a*b
  total := c + indirect
", extra)
mediation_bounds <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60 + upper(1)*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ lower(0)*y1
  indirect := a*b
"
path <- "
  y1 ~ x1 + x2
  y5 ~ y1 + x1 + x3
"
growth_cov <- "
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
  i ~ x1 + x2
  s ~ x1 + x2
  t1 ~ c1
  t2 ~ c2
  t3 ~ c3
  t4 ~ c4
"
growth <- "
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
"
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
mimic <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + grade
"
bfi_mimic <- "
  agree =~ A1 + A2 + A3 + A4 + A5
  agree ~ age + education
"
without_missing_grade <- function(d) d[!is.na(d$grade), ]
without_missing_grade_text <- "rows with a missing grade removed (d[!is.na(d$grade), ])"

case <- function(name, about, fun, data, model, options = list(), prep = NULL, prep_text = NULL)
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       prep = prep, prep_text = prep_text)

cases <- list(
  case("constraints_ratio", "HS CFA with a linear equality constraint between two loadings, a == 2*b",
       "cfa", HS, hs_labelled("a == 2*b")),
  case("constraints_sum", "HS CFA with the linear equality constraint a + b == 1 on two loadings",
       "cfa", HS, hs_labelled("a + b == 1")),
  case("constraints_nonlinear_observed", "HS CFA with b == a^2 and standard errors from the observed information",
       "cfa", HS, hs_labelled("b == a^2"), list(information = "observed")),
  case("constraints_circle", "HS CFA with an equality that cannot be solved for one parameter, a^2 + b^2 == 1",
       "cfa", HS, hs_labelled("a^2 + b^2 == 1")),
  case("constraints_fixed_label", paste(
         "poldem mediation with defined parameters that use the marker loading's value 1: lavaan",
         "refuses labels of fixed parameters in ':=', so this is the model 'ind60 =~ l1*x1 + ...',",
         "'scaled := l1*a/2', 'shifted := indirect + l1' written with l1 replaced by 1"),
       "sem", PD, mediation("  scaled := 1*a/2\n  shifted := indirect + 1\n")),
  case("constraints_bounds", "poldem mediation with modifier bounds: upper(1) on a (active: a is 1.47 without it) and lower(0) on a residual variance (inactive)",
       "sem", PD, mediation_bounds),
  case("constraints_general_inequality", "poldem mediation with an active inequality on two parameters (a + b < 2) and an inactive one on a defined parameter (indirect > 0)",
       "sem", PD, mediation("  a + b < 2\n  indirect > 0\n")),
  case("constraints_defined_inequality", "poldem mediation with an active nonlinear inequality on a defined parameter (indirect < 1)",
       "sem", PD, mediation("  indirect < 1\n")),
  case("path_fixed_x", "path model with observed exogenous covariates x1, x2, x3 (fixed.x = TRUE, the default)",
       "sem", PD, path),
  case("path_fixed_x_meanstructure", "the path model with fixed.x = TRUE and a mean structure",
       "sem", PD, path, list(meanstructure = TRUE)),
  case("path_random_x", "the path model with fixed.x = FALSE (covariate variances and covariances are free parameters)",
       "sem", PD, path, list(fixed.x = FALSE)),
  case("path_random_x_meanstructure", "the path model with fixed.x = FALSE and a mean structure",
       "sem", PD, path, list(fixed.x = FALSE, meanstructure = TRUE)),
  case("growth_covariates_random_x", "growth model with time-invariant and time-varying covariates, fixed.x = FALSE",
       "growth", GROWTH, growth_cov, list(fixed.x = FALSE)),
  case("growth_linear_observed", "linear growth model (mean structure) with standard errors from the observed information",
       "growth", GROWTH, growth, list(information = "observed")),
  case("hs_multigroup_observed", "HS CFA by school, equal loadings, standard errors from the observed information",
       "cfa", HS, hs, list(group = "school", group.equal = "loadings", information = "observed")),
  case("mimic_observed", "MIMIC on HS (fixed.x) with standard errors from the observed information",
       "sem", HS, mimic, list(information = "observed"), without_missing_grade, without_missing_grade_text),
  case("mimic_random_x_meanstructure", "MIMIC on HS with fixed.x = FALSE and a mean structure",
       "sem", HS, mimic, list(fixed.x = FALSE, meanstructure = TRUE), without_missing_grade, without_missing_grade_text),
  case("bfi_mimic_fiml", "one factor on five bfi items regressed on age and education (education has missing values) by FIML, fixed.x = TRUE",
       "sem", "bfi.csv", bfi_mimic, list(missing = "fiml")),
  case("bfi_agree_fiml_expected", "one factor on the five bfi agreeableness items by FIML, standard errors from the expected information",
       "cfa", "bfi.csv", "agree =~ A1 + A2 + A3 + A4 + A5", list(missing = "fiml", information = "expected")),
  case("hs_multigroup_fiml_expected", "HS CFA by school by FIML (complete data) with a mean structure, expected information",
       "cfa", HS, hs, list(group = "school", missing = "fiml", information = "expected")),
  case("bfi_mimic_fiml_random_x", "the bfi MIMIC by FIML with fixed.x = FALSE (rows missing on education are kept)",
       "sem", "bfi.csv", bfi_mimic, list(missing = "fiml", fixed.x = FALSE))
)

# ---- run ---------------------------------------------------------------------------------------
run_case <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  if (!is.null(case$prep)) data <- case$prep(data)
  r <- fit_with_warnings(case$fun, case$model, data, case$options)
  fit <- r$fit; warns <- r$warnings
  all_measures <- fitMeasures(fit)
  options <- case$options
  if (!length(options)) options <- no_options
  if (!is.null(options$group.equal)) options$group.equal <- I(options$group.equal)
  list(name = case$name, about = case$about, fun = case$fun, data = case$data,
       prep = if (is.null(case$prep_text)) NA else case$prep_text, model = case$model,
       options = options, lavaan_version = as.character(packageVersion("lavaan")),
       nobs = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
       iterations = lavInspect(fit, "iterations"), warnings = I(warns),
       estimates = estimates(fit, row_columns),
       fit_measures = as.list(all_measures[intersect(fm_names, names(all_measures))]))
}

for (case in cases) {
  result <- run_case(case)
  write_case(result, case$name)
  cat(sprintf("%-34s nobs %5s iter %4d chisq %10.4f df %3d warnings %d\n", case$name,
              paste(result$nobs, collapse = "+"), result$iterations,
              result$fit_measures$chisq, as.integer(result$fit_measures$df),
              length(result$warnings)))
  for (w in result$warnings) cat("   warning:", w, "\n")
}
