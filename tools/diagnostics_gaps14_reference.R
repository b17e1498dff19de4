# lavaan 0.6.14 / semTools references for the diagnostics of models the first references left out:
#   gaps14_<case>.json      (the layout of residuals_<case>.json) lavInspect(fit, what) for
#                           equality constraints (information and gradient per free parameter),
#                           observed variables in regressions (lavaan's model matrices, with
#                           phantom latent variables) and a two-level model (moments per level);
#                           resid() / lavResiduals() of least-squares fits (ULS, DWLS, WLS, GLS;
#                           several groups; fixed.x covariates)
#   gaps14_invariance_<c>.json  the invariance sequence on HS with holes (missing = "fiml", ML
#                           and MLR) and with group.partial given to every step
#   gaps14_sam.json         sam() with a label shared by two measurement blocks and with an
#                           indicator of two blocks (lavaan fits each block on its own)
# Usage: Rscript tools/diagnostics_gaps14_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
suppressMessages(library(semTools))

hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
mimic_paths <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual ~ ageyr + sex
  x7 ~ textual + x9
  x8 ~ x7
"
paths <- "
  y1 ~ x1 + x2
  y5 ~ y1 + x1
  y1 ~~ y2
"
twolevel <- "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"; TL <- "Demo.twolevel.csv"

case <- function(name, about, fun, data, model, options = list(), prep = NULL, inspect = FALSE)
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       prep = prep, inspect = inspect)
cases <- list(
  case("hs_groups_equal", "HS CFA by school, group.equal = loadings and intercepts", "cfa", HS,
       hs, list(group = "school", group.equal = c("loadings", "intercepts")), inspect = TRUE),
  case("hs_mimic_paths", "HS: two factors on ageyr and sex, x7 on textual and x9, x8 on x7",
       "sem", HS, mimic_paths, inspect = TRUE),
  case("poldem_paths", "Political Democracy path model of observed variables, meanstructure",
       "sem", PD, paths, list(meanstructure = TRUE), inspect = TRUE),
  case("poldem_paths_groups", "the path model in two groups (x1 above its median)",
       "sem", PD, paths, list(group = "high"), prep = "high", inspect = TRUE),
  case("twolevel", "two-level model on Demo.twolevel (cluster = 'cluster')", "sem", TL, twolevel,
       list(cluster = "cluster"), inspect = TRUE),
  case("hs_uls", "HS CFA, estimator ULS", "cfa", HS, hs, list(estimator = "ULS")),
  case("hs_dwls", "HS CFA, estimator DWLS", "cfa", HS, hs, list(estimator = "DWLS")),
  case("hs_wls", "HS CFA, estimator WLS", "cfa", HS, hs, list(estimator = "WLS")),
  case("hs_gls", "HS CFA, estimator GLS", "cfa", HS, hs, list(estimator = "GLS")),
  case("hs_uls_groups", "HS CFA by school, estimator ULS, meanstructure", "cfa", HS, hs,
       list(estimator = "ULS", group = "school", meanstructure = TRUE)),
  case("hs_gls_groups", "HS CFA by school, estimator GLS", "cfa", HS, hs,
       list(estimator = "GLS", group = "school")),
  case("hs_wls_mimic", "HS: two factors on ageyr and sex (fixed.x), estimator WLS", "sem", HS,
       mimic_paths, list(estimator = "WLS")))

# ser(), finite() and safely(): tools/reference_common.R

res_types <- c("raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized")
inspect_names <- c("sampstat", "implied", "residuals", "cov.lv", "cor.lv", "cov.ov", "cor.ov",
                   "mean.ov", "mean.lv", "vcov", "rsquare", "coef", "se", "free", "est", "nobs",
                   "ngroups", "group.label", "converged", "information", "gradient", "lambda",
                   "theta", "psi", "beta", "nu", "alpha")
prep_high <- function(d) { d$high <- ifelse(d$x1 > median(d$x1), "high", "low"); d }
high_text <- "a column high: 'high' where x1 is above its median, else 'low'"

run_case <- function(cs) {
  d <- read.csv(file.path(data_dir, cs$data))
  if (identical(cs$prep, "high")) d <- prep_high(d)
  fit <- do.call(cs$fun, c(list(model = cs$model, data = d), cs$options))
  out <- list(name = cs$name, about = cs$about, fun = cs$fun, data = cs$data, model = cs$model,
              options = if (length(cs$options)) cs$options else no_options, prep = cs$prep,
              prep_text = if (identical(cs$prep, "high")) high_text else NULL,
              lavaan_version = as.character(packageVersion("lavaan")),
              ngroups = lavInspect(fit, "ngroups"),
              group_label = I(lavInspect(fit, "group.label")),
              converged = lavInspect(fit, "converged"))
  out$resid <- setNames(lapply(res_types, function(t) safely(resid(fit, type = t))), res_types)
  out$lavResiduals <- setNames(lapply(c("cor.bentler", "cor.bollen", "raw"), function(t)
    safely(lavResiduals(fit, type = t))), c("cor.bentler", "cor.bollen", "raw"))
  out$coef <- safely(coef(fit))
  fm <- fitMeasures(fit)
  fm <- fm[intersect(c("logl", "aic", "bic", "srmr", "crmr", "chisq"), names(fm))]
  out$fit_measures <- setNames(as.list(finite(fm)), names(fm))
  if (cs$inspect) {
    # lavaan 0.6.14 has no lavInspect names for single model matrices: they are taken from "est"
    one_matrix <- function(w) {
      est <- lavInspect(fit, "est")
      if (lavInspect(fit, "ngroups") > 1 || lavInspect(fit, "nlevels") > 1)
        lapply(est, function(m) m[[w]]) else est[[w]]
    }
    out$inspect <- setNames(lapply(inspect_names, function(w) safely(
      if (w %in% c("lambda", "theta", "psi", "beta", "nu", "alpha")) one_matrix(w)
      else lavInspect(fit, w))), inspect_names)
  }
  write_case(out, paste0("gaps14_", cs$name))
}
for (cs in cases) run_case(cs)

# ---- the invariance sequence: FIML (ML, MLR) and group.partial ---------------------------------
hsd <- read.csv(file.path(data_dir, HS))
steps <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
inv_measures <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
                  "chisq.scaling.factor", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
                  "cfi.scaled", "tli.scaled", "rmsea.scaled", "cfi.robust", "tli.robust",
                  "rmsea.robust")
invariance_case <- function(name, d, options, prep = NULL) {
  fits <- lapply(steps, function(eq) do.call("cfa", c(list(model = hs, data = d, group = "school",
                                                         group.equal = eq), options)))
  fm <- lapply(fits, function(f) { v <- fitMeasures(f); as.list(v[intersect(inv_measures, names(v))]) })
  lrt <- as.data.frame(do.call(lavTestLRT, c(unname(fits), list(model.names = names(fits)))))
  lrt$step <- rownames(lrt)
  cf <- compareFit(fits, nested = TRUE)
  nested <- cf@nested; nested$comparison <- rownames(nested)
  diff <- cf@fit.diff; diff$comparison <- rownames(diff)
  write_case(list(
    model = hs, data = HS, group = "school", options = options, prep = prep,
    prep_text = if (identical(prep, "hs_holes")) holes_text else NULL,
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    steps = lapply(steps, function(eq) as.list(setdiff(eq, ""))),
    fit_measures = fm, lrt = lrt, compare_nested = nested, compare_fit_diff = diff,
    estimates = lapply(fits, function(f) parameterEstimates(f)[, c("lhs", "op", "rhs", "group", "est", "se")])
  ), paste0("gaps14_invariance_", name))
}
holes <- punch_holes(hsd)
invariance_case("fiml_ml", holes, list(missing = "fiml", estimator = "ML"), "hs_holes")
invariance_case("fiml_mlr", holes, list(missing = "fiml", estimator = "MLR"), "hs_holes")
invariance_case("partial", hsd, list(group.partial = c("visual =~ x2", "x3 ~ 1", "x7 ~~ x7")))
invariance_case("partial_mlr", hsd, list(estimator = "MLR", group.partial = c("visual =~ x2", "x3 ~ 1")))

# ---- sam(): what lavaan ignores across measurement blocks ---------------------------------------
pd <- read.csv(file.path(data_dir, PD))
sam_models <- list(
  shared_label = "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + y4
  dem65 =~ y5 + a*y6 + b*y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
",
  shared_indicator = "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8 + x3
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
",
  shared_label_in_block = "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + a*y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
")
sam_rows <- function(fit) {
  pe <- parameterEstimates(fit, remove.step1 = FALSE)
  if (is.null(pe$label)) pe$label <- ""
  pe[, c("lhs", "op", "rhs", "label", "est", "se")]
}
write_case(list(
  data = PD, lavaan_version = as.character(packageVersion("lavaan")),
  cases = lapply(names(sam_models), function(n) list(
    name = n, model = sam_models[[n]], estimates = sam_rows(sam(sam_models[[n]], data = pd)),
    mm_joined = sam_rows(sam(sam_models[[n]], data = pd, mm.list = list("ind60", c("dem60", "dem65"))))))
), "gaps14_sam")
