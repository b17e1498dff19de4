# Further lavaan reference results: information = "observed", measurement invariance and
# likelihood-ratio tests, equality / inequality constraints, growth and MIMIC models with
# exogenous covariates, factor scores (multi-group, mean structure, FIML), std.lv, orthogonal
# factors, MLR, bootstrap, and one lme4 random-intercept model. Same layout as
# lavaan_reference.R, with confidence intervals and std.lv added to every estimates row.
# Usage: Rscript extra_reference.R DATA_DIR OUT_DIR
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

# ---- models --------------------------------------------------------------------------------
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
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
mediation <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  indirect := a*b
  total := c + a*b
"
growth <- "
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
"
bfi5 <- "
  agree =~ A1 + A2 + A3 + A4 + A5
  consc =~ C1 + C2 + C3 + C4 + C5
  extra =~ E1 + E2 + E3 + E4 + E5
  neuro =~ N1 + N2 + N3 + N4 + N5
  open  =~ O1 + O2 + O3 + O4 + O5
"
micro_model <- function(k) paste0("
  xi =~ ", paste0("1*x", 1:k, collapse = " + "), "
  ", paste0("x", 1:k, " ~~ v*x", 1:k, collapse = "\n  "), "
  y ~ xi + Z
  xi ~~ Z
")
hs_linear_eq <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  a == b
"
hs_nonlinear_eq <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  b == a^2
"
mediation_chain <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  indirect := a*b
  total := c + indirect
  proportion := indirect / total
"
mediation_ineq <- paste0(mediation_chain, "  a < 1\n  b > 0\n")
mediation_ineq_inactive <- paste0(mediation_chain, "  a < 5\n  b > -1\n")
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
mimic <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + grade
"
drop_missing_grade <- function(d) d[!is.na(d$grade), ]
drop_missing_grade_text <- "rows with a missing grade removed (d[!is.na(d$grade), ]: 1 of 301 rows)"

# ---- extras ----------------------------------------------------------------------------------
score_table <- function(s) as.data.frame(s)

# All rows' factor scores, per group in a multi-group fit: group label, 1-based rows in the data.
scores_all <- function(fit, data) {
  reg <- lavPredict(fit, method = "regression"); bart <- lavPredict(fit, method = "Bartlett")
  idx <- lavInspect(fit, "case.idx"); labels <- lavInspect(fit, "group.label")
  if (!is.list(idx)) {
    return(list(scores = list(rows = idx, regression = score_table(reg), bartlett = score_table(bart))))
  }
  list(scores = lapply(seq_along(idx), function(g) list(
    group = g, group_label = labels[g], rows = idx[[g]],
    regression = score_table(reg[[g]]), bartlett = score_table(bart[[g]]))))
}

# FIML: the first 20 rows used and the first 20 rows with a missing value in the model variables.
scores_fiml_sample <- function(fit, data) {
  reg <- lavPredict(fit, method = "regression"); bart <- lavPredict(fit, method = "Bartlett")
  idx <- lavInspect(fit, "case.idx")
  ov <- lavNames(fit, "ov")
  incomplete <- which(!stats::complete.cases(data[idx, ov]))
  pick <- function(k) list(rows = idx[k], regression = score_table(reg[k, , drop = FALSE]),
                           bartlett = score_table(bart[k, , drop = FALSE]))
  list(scores_first20 = pick(1:20), scores_missing20 = pick(head(incomplete, 20)))
}

std_solution <- function(fit, data) {
  one <- function(type) {
    s <- standardizedSolution(fit, type = type, se = TRUE, remove.eq = FALSE, remove.ineq = FALSE,
                              remove.def = FALSE)
    s[, intersect(c("lhs", "op", "rhs", "group", "label", "est.std", "se", "z", "pvalue", "ci.lower", "ci.upper"), names(s))]
  }
  list(standardized_solution_std_all = one("std.all"), standardized_solution_std_lv = one("std.lv"))
}

bootstrap_info <- function(fit, data) {
  boot <- lavInspect(fit, "boot")
  list(bootstrap_draws_requested = 1000L, bootstrap_draws_used = nrow(boot),
       bootstrap_nonadmissible_draws = I(attr(boot, "nonadmissible")),
       bootstrap_error_draws = I(attr(boot, "error.idx")), boot_ci_type = "perc")
}

# lavTestLRT's table; lavaan sorts the models by df, so the model names are taken from its rows.
lrt_table <- function(fits) {
  t <- do.call(lavTestLRT, c(unname(fits), list(model.names = names(fits))))
  df <- as.data.frame(t)
  df <- cbind(model = rownames(df), df, stringsAsFactors = FALSE)
  rownames(df) <- NULL
  list(columns = c("model", names(as.data.frame(t))), heading = attr(t, "heading"), rows = df)
}

# ---- cases ---------------------------------------------------------------------------------
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"
inv <- function(suffix, est_opts, about_extra) list(
  list(name = paste0("hs_invariance_configural", suffix), fun = "cfa", data = HS, model = hs,
       about = paste0("measurement invariance by school, configural model (no equality constraints)", about_extra),
       options = c(list(group = "school"), est_opts)),
  list(name = paste0("hs_invariance_weak", suffix), fun = "cfa", data = HS, model = hs,
       about = paste0("measurement invariance by school, weak (metric): equal loadings", about_extra),
       options = c(list(group = "school", group.equal = "loadings"), est_opts)),
  list(name = paste0("hs_invariance_strong", suffix), fun = "cfa", data = HS, model = hs,
       about = paste0("measurement invariance by school, strong (scalar): equal loadings and intercepts; lrt = lavTestLRT(configural, weak, strong)", about_extra),
       options = c(list(group = "school", group.equal = c("loadings", "intercepts")), est_opts),
       lrt_of = paste0(c("hs_invariance_configural", "hs_invariance_weak", "hs_invariance_strong"), suffix)))

cases <- c(list(
  list(name = "hs_cfa_observed", about = "the HS three-factor CFA with standard errors from the observed information matrix",
       fun = "cfa", data = HS, model = hs, options = list(information = "observed")),
  list(name = "poldem_sem_observed", about = "the Political Democracy SEM with standard errors from the observed information matrix",
       fun = "sem", data = PD, model = poldem, options = list(information = "observed"))),
  inv("", list(), ""), inv("_mlr", list(estimator = "MLR"), " (MLR; lrt is the scaled difference test, lavaan's default method)"),
  list(
  list(name = "constraints_linear", about = "HS CFA with a linear equality constraint a == b between two labelled loadings",
       fun = "cfa", data = HS, model = hs_linear_eq, options = no_options),
  list(name = "constraints_nonlinear", about = "HS CFA with a nonlinear equality constraint b == a^2",
       fun = "cfa", data = HS, model = hs_nonlinear_eq, options = no_options),
  list(name = "constraints_defined_chain", about = "poldem mediation with a defined parameter built on another (total := c + indirect, proportion := indirect / total)",
       fun = "sem", data = PD, model = mediation_chain, options = no_options),
  list(name = "constraints_inequality", about = "the same with inequality constraints: a < 1 is active at the solution (unconstrained a is 1.48), b > 0 is inactive",
       fun = "sem", data = PD, model = mediation_ineq, options = no_options),
  list(name = "constraints_inequality_inactive", about = "the same with two inactive inequality constraints (a < 5, b > -1): the solution equals constraints_defined_chain",
       fun = "sem", data = PD, model = mediation_ineq_inactive, options = no_options),
  list(name = "growth_covariates", about = "lavaan tutorial growth model with time-invariant (x1, x2) and time-varying (c1-c4) exogenous covariates, fixed.x",
       fun = "growth", data = "Demo.growth.csv", model = growth_cov, options = no_options),
  list(name = "mimic_hs", about = "MIMIC on HS: two factors regressed on ageyr and grade (observed exogenous covariates, fixed.x = TRUE default)",
       fun = "sem", data = HS, prep = drop_missing_grade, prep_text = drop_missing_grade_text, model = mimic, options = no_options),
  list(name = "mimic_hs_fixedx_false", about = "the same MIMIC with fixed.x = FALSE (covariate variances and covariance are free parameters)",
       fun = "sem", data = HS, prep = drop_missing_grade, prep_text = drop_missing_grade_text, model = mimic, options = list(fixed.x = FALSE)),
  list(name = "mimic_hs_meanstructure", about = "the same MIMIC with meanstructure = TRUE",
       fun = "sem", data = HS, prep = drop_missing_grade, prep_text = drop_missing_grade_text, model = mimic, options = list(meanstructure = TRUE)),
  list(name = "hs_multigroup_scores", about = "hs_multigroup (equal loadings and intercepts by school) with lavPredict regression and Bartlett scores for every row, per group",
       fun = "cfa", data = HS, model = hs, options = list(group = "school", group.equal = c("loadings", "intercepts")), extras = scores_all),
  list(name = "hs_cfa_meanstructure_scores", about = "HS CFA with meanstructure = TRUE and lavPredict regression and Bartlett scores for every row",
       fun = "cfa", data = HS, model = hs, options = list(meanstructure = TRUE), extras = scores_all),
  list(name = "bfi_5factor_fiml_scores", about = "bfi_5factor_fiml with lavPredict scores (FIML) for the first 20 rows and the first 20 rows with a missing item",
       fun = "cfa", data = "bfi.csv", model = bfi5, options = list(missing = "fiml"), extras = scores_fiml_sample),
  list(name = "micro_macro_fiml", about = "the micro-macro SEM on the unbalanced wide data (x1-x15, empty where a group has fewer members) by FIML, with scores for every group",
       fun = "sem", data = "micro_macro_unbalanced_wide.csv", model = micro_model(15), options = list(missing = "fiml"), extras = scores_all,
       note = paste("lavaan warns that the EM for the unrestricted (h1) moments stopped at em.h1.iter.max = 500:",
                    "the saturated model of 17 variables, x15 seen in 16 of 150 rows, has no proper maximum (its logl",
                    "keeps rising with more iterations). unrestricted.logl, chisq, pvalue, cfi, tli, rmsea and srmr depend on it;",
                    "estimates, se, logl, aic, bic, npar, df and the scores do not.")),
  list(name = "hs_cfa_std", about = "hs_cfa with std.lv, std.all and lavaan's standardizedSolution() (with delta-method SEs)",
       fun = "cfa", data = HS, model = hs, options = no_options, extras = std_solution),
  list(name = "poldem_sem_std", about = "poldem_sem with std.lv, std.all and standardizedSolution()",
       fun = "sem", data = PD, model = poldem, options = no_options, extras = std_solution),
  list(name = "poldem_mediation_std", about = "poldem_mediation with std.lv, std.all and standardizedSolution()",
       fun = "sem", data = PD, model = mediation, options = no_options, extras = std_solution),
  list(name = "growth_linear_std", about = "growth_linear with std.lv, std.all and standardizedSolution()",
       fun = "growth", data = "Demo.growth.csv", model = growth, options = no_options, extras = std_solution),
  list(name = "micro_macro_sem_std", about = "micro_macro_sem with std.lv, std.all and standardizedSolution()",
       fun = "sem", data = "micro_macro_wide.csv", model = micro_model(10), options = no_options, extras = std_solution),
  list(name = "hs_orthogonal", about = "HS CFA with uncorrelated factors (orthogonal = TRUE)",
       fun = "cfa", data = HS, model = hs, options = list(orthogonal = TRUE)),
  list(name = "hs_orthogonal_stdlv", about = "HS CFA with uncorrelated factors and factor variances fixed to 1",
       fun = "cfa", data = HS, model = hs, options = list(std.lv = TRUE, orthogonal = TRUE)),
  list(name = "hs_cfa_mlr", about = "HS CFA, estimator MLR (robust SEs, scaled test), complete data",
       fun = "cfa", data = HS, model = hs, options = list(estimator = "MLR")),
  list(name = "bfi_5factor_mlr_fiml", about = "Big Five 25-item CFA, FIML with estimator MLR (robust SEs and scaled test under missing data)",
       fun = "cfa", data = "bfi.csv", model = bfi5, options = list(missing = "fiml", estimator = "MLR")),
  list(name = "hs_bootstrap", about = "HS CFA with bootstrap SEs (1000 ordinary bootstrap draws) and percentile CIs; only comparable statistically",
       fun = "cfa", data = HS, model = hs, options = list(se = "bootstrap", bootstrap = 1000L), seed = 20230401L,
       extras = bootstrap_info,
       note = paste("set.seed(seed) right before the fit; the 1000 draws depend on R's RNG, so the SEs and CIs match",
                    "another bootstrap only statistically. lavaan warns that some draws gave nonadmissible solutions",
                    "(listed); they are kept in the SEs and CIs."))
))

# ---- run -------------------------------------------------------------------------------------
fit_case <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  if (!is.null(case$prep)) data <- case$prep(data)
  if (!is.null(case$seed)) set.seed(case$seed)
  c(fit_with_warnings(case$fun, case$model, data, case$options), list(data = data))
}

fit_measures <- function(fit) {
  if (!lavInspect(fit, "converged")) return(no_options)
  all <- fitMeasures(fit)
  fm <- as.list(all[intersect(fm_names, names(all))])
  if (lavInspect(fit, "options")$test %in% c("yuan.bentler.mplus", "satorra.bentler", "yuan.bentler")) {
    fm$scaling.factor <- all[["chisq.scaling.factor"]]
    robust <- grep("(\\.scaled|\\.robust|scaling\\.factor)", names(all), value = TRUE)
    robust <- setdiff(robust, grep("notclose", robust, value = TRUE))
    fm <- c(fm, as.list(all[robust]))
  }
  fm
}

json_options <- function(opts) {
  if (!length(opts)) return(no_options)
  if (!is.null(opts$group.equal)) opts$group.equal <- I(opts$group.equal)
  opts
}

fits <- list()
for (case in cases) {
  r <- fit_case(case); fit <- r$fit
  fits[[case$name]] <- fit
  fm <- fit_measures(fit)
  res <- list(name = case$name, about = case$about, fun = case$fun, data = case$data,
              prep = if (is.null(case$prep_text)) NA else case$prep_text, model = case$model, options = json_options(case$options),
              lavaan_version = as.character(packageVersion("lavaan")),
              nobs = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
              iterations = lavInspect(fit, "iterations"), warnings = I(r$warnings),
              estimates = estimates(fit), fit_measures = fm)
  if (!is.null(case$seed)) res$seed <- case$seed
  if (!is.null(case$note)) res$note <- case$note
  if (!is.null(case$extras)) res <- c(res, case$extras(fit, r$data))
  if (!is.null(case$lrt_of)) {
    lrt_fits <- fits[case$lrt_of]; names(lrt_fits) <- case$lrt_of
    res$lrt <- lrt_table(lrt_fits)
  }
  write_case(res, case$name)
  cat(sprintf("%-34s converged %s iter %4d chisq %10.4f df %3d warnings %d\n", case$name,
              res$converged, res$iterations, fm$chisq, as.integer(fm$df), length(r$warnings)))
  for (w in r$warnings) cat("   warning:", w, "\n")
}

# ---- lme4: random-intercept model on the unbalanced long data ------------------------------
mm <- read.csv(file.path(data_dir, "micro_macro_unbalanced_long.csv"))
m <- lmer(x ~ 1 + (1 | group), data = mm, REML = FALSE)
v <- as.data.frame(VarCorr(m))
re <- ranef(m)$group
out <- list(
  micro_macro_unbalanced = list(
    formula = "x ~ 1 + (1 | group), REML = FALSE", data = "micro_macro_unbalanced_long.csv",
    nobs = nrow(mm), ngroups = nrow(re),
    variances = setNames(as.list(v$vcov), v$grp), fixed = as.list(fixef(m)),
    fixed_se = as.list(sqrt(diag(as.matrix(vcov(m))))),
    logLik = as.numeric(logLik(m)),
    blup_groups_first20 = as.integer(head(rownames(re), 20)),
    blup_first20 = head(re[, 1], 20)),
  lme4_version = as.character(packageVersion("lme4")))
write_json(out, file.path(out_dir, "mixed_unbalanced_lme4.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("mixed_unbalanced_lme4 logLik", out$micro_macro_unbalanced$logLik, "\n")
