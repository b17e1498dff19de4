# lavaan reference results for three combinations: likelihood = "wishart" with estimator = "MLR",
# cluster = with missing = "fiml" or with several groups (single-level models, estimator MLR),
# and lavTestLRT()'s "satorra.2000" scaled difference test of nested models fitted with MLMV,
# MLMVS (its default there) and MLM (method = "satorra.2000" asked for). Every fit keeps the whole
# fitMeasures() vector and lavInspect(fit, "test"); an LRT case keeps lavTestLRT()'s table and
# its "scale" and "shift" attributes.
# Usage: Rscript tools/gaps_reference.R DATA_DIR OUT_DIR [CASE ...]   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
timing_runs <- 5L

# ---- models ------------------------------------------------------------------------------------
hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
hs_equal <- "
  visual  =~ x1 + a*x2 + a*x3
  textual =~ x4 + b*x5 + b*x6
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
cluster_model <- "
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"; TWOLEVEL <- "Demo.twolevel.csv"

# ---- data preparations -------------------------------------------------------------------------
preps <- list(
  twolevel_holes = list(text = paste(
    "with i the 1-based row number: y1 missing where i %% 7 == 0, y3 missing where",
    "i %% 11 == 5 (no row loses all of y1, y2, y3; the covariates stay complete)"),
    fun = function(d) {
      i <- seq_len(nrow(d))
      d$y1[i %% 7 == 0] <- NA
      d$y3[i %% 11 == 5] <- NA
      d
    }),
  twolevel_halves = list(text = paste(
    "a grouping column half = \"odd\" where the cluster id is odd, \"even\" where it is even",
    "(added as the last column)"),
    fun = function(d) {
      d$half <- ifelse(d$cluster %% 2 == 1, "odd", "even")
      d
    }))

# ---- cases -------------------------------------------------------------------------------------
case <- function(name, about, fun, data, model, options = list(), prep = NULL, ...)
  c(list(name = name, about = about, fun = fun, data = data, model = model, options = options,
         prep = prep), list(...))
fit_cases <- list(
  case("hs_cfa_MLR_wishart", "HS three-factor CFA, estimator MLR, likelihood = wishart",
       "cfa", HS, hs, list(estimator = "MLR", likelihood = "wishart")),
  case("poldem_MLR_wishart",
       "Political Democracy SEM (a, b, c loadings equal over time), estimator MLR, likelihood = wishart",
       "sem", PD, poldem, list(estimator = "MLR", likelihood = "wishart")),
  case("twolevel_cluster_MLR_fiml", paste(
         "single-level MIMIC (fw =~ y1 + y2 + y3; fw ~ x1 + x2 + x3) on Demo.twolevel with holes",
         "(twolevel_holes), cluster = 'cluster', estimator MLR, missing = 'fiml'"),
       "sem", TWOLEVEL, cluster_model, list(estimator = "MLR", missing = "fiml", cluster = "cluster"),
       prep = "twolevel_holes"),
  case("twolevel_cluster_groups_MLR", paste(
         "single-level MIMIC (fw =~ y1 + y2 + y3; fw ~ x1 + x2 + x3) on Demo.twolevel in two",
         "groups (twolevel_halves: group = 'half'), cluster = 'cluster', estimator MLR"),
       "sem", TWOLEVEL, cluster_model, list(estimator = "MLR", group = "half", cluster = "cluster"),
       prep = "twolevel_halves"))

lrt_case <- function(estimator, method = NULL) {
  name <- paste0("hs_lrt_", estimator, if (is.null(method)) "" else paste0("_", method))
  case(name, paste0(
         "lavTestLRT(fit1, fit0", if (is.null(method)) "" else paste0(", method = '", method, "'"),
         "): fit1 the HS three-factor CFA, fit0 the same with equal loadings of x2 and x3 (a)",
         " and of x5 and x6 (b), both cfa(..., estimator = '", estimator, "')"),
       "cfa", HS, hs, list(estimator = estimator), model0 = hs_equal, method = method)
}
groups_lrt_case <- function(name, equal1, equal0) {
  opts <- function(eq) c(list(estimator = "MLMV", group = "school"),
                         if (length(eq)) list(group.equal = I(eq)) else list())
  case(name, paste0(
         "lavTestLRT(fit1, fit0): the HS three-factor CFA by school, fit1 with group.equal = ",
         if (length(equal1)) paste(equal1, collapse = "+") else "(none)", ", fit0 with group.equal = ",
         paste(equal0, collapse = "+"), ", both estimator = 'MLMV'"),
       "cfa", HS, hs, opts(equal1), model0 = hs, options0 = opts(equal0))
}
lrt_cases <- list(lrt_case("MLMV"), lrt_case("MLMVS"), lrt_case("MLM", "satorra.2000"),
                  groups_lrt_case("hs_groups_lrt_loadings_MLMV", character(0), "loadings"),
                  groups_lrt_case("hs_groups_lrt_intercepts_MLMV", "loadings",
                                  c("loadings", "intercepts")))

# ---- helpers (as in estimators_reference.R) ----------------------------------------------------
finite_or_na <- function(x) { x <- unclass(x); x[!is.finite(x)] <- NA; x }
used_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keys <- c("estimator", "se", "test", "information", "observed.information", "h1.information",
            "likelihood", "missing", "meanstructure", "fixed.x")
  out <- lapply(keys, function(k) { v <- o[[k]]; if (length(v) > 1) I(v) else v })
  setNames(out, keys)
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
prepared <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  if (!is.null(case$prep)) data <- preps[[case$prep]]$fun(data)
  data
}
header <- function(case) list(
  name = case$name, about = case$about, fun = case$fun, data = case$data,
  prep = if (is.null(case$prep)) NA else case$prep,
  prep_text = if (is.null(case$prep)) NA else preps[[case$prep]]$text,
  model = case$model, options = if (length(case$options)) case$options else no_options,
  lavaan_version = as.character(packageVersion("lavaan")))

run_fit_case <- function(case) {
  data <- prepared(case)
  r <- fit_with_warnings(case$fun, case$model, data, case$options)
  fit <- r$fit
  call_args <- c(list(model = case$model, data = data), case$options)
  times <- sapply(seq_len(timing_runs), function(i)
    system.time(suppressWarnings(do.call(case$fun, call_args)))[["elapsed"]])
  res <- c(header(case), list(
    nobs = I(lavInspect(fit, "nobs")), converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"), warnings = I(unique(trimws(r$warnings))),
    lavaan_options = used_options(fit)))
  if (lavInspect(fit, "ngroups") > 1) res$group_labels <- I(lavInspect(fit, "group.label"))
  if (!is.null(case$options$cluster))
    res$nclusters <- length(unique(data[[case$options$cluster]][unlist(lavInspect(fit, "case.idx"))]))
  c(res, list(estimates = estimates(fit), fit_measures = as.list(finite_or_na(fitMeasures(fit))),
              tests = tests_of(fit), lavaan_seconds_median = median(times),
              timing_runs = timing_runs))
}

run_lrt_case <- function(case) {
  data <- prepared(case)
  fit1 <- do.call(case$fun, c(list(model = case$model, data = data), case$options))
  options0 <- if (is.null(case$options0)) case$options else case$options0
  fit0 <- do.call(case$fun, c(list(model = case$model0, data = data), options0))
  lrt <- if (is.null(case$method)) lavTestLRT(fit1, fit0) else
    lavTestLRT(fit1, fit0, method = case$method)
  table <- lapply(seq_len(nrow(lrt)), function(k)
    c(list(model = rownames(lrt)[k]), lapply(as.list(lrt[k, ]), finite_or_na)))
  c(header(case), list(
    model0 = case$model0, options0 = options0, lrt_call = paste0("lavTestLRT(fit1, fit0",
      if (is.null(case$method)) "" else paste0(", method = \"", case$method, "\""), ")"),
    lrt_method = sub(".*method = \u201c([^\u201d]*)\u201d.*", "\\1", attr(lrt, "heading")),
    lrt = table, lrt_heading = attr(lrt, "heading"),
    lrt_scale = I(finite_or_na(attr(lrt, "scale"))),
    lrt_shift = I(finite_or_na(attr(lrt, "shift"))),
    fit_measures1 = as.list(finite_or_na(fitMeasures(fit1))),
    fit_measures0 = as.list(finite_or_na(fitMeasures(fit0))),
    tests1 = tests_of(fit1), tests0 = tests_of(fit0)))
}

# ---- run ---------------------------------------------------------------------------------------
only <- if (length(args) > 2) args[-(1:2)] else NULL
for (case in c(fit_cases, lrt_cases)) {
  if (!is.null(only) && !(case$name %in% only)) next
  res <- if (is.null(case$model0)) run_fit_case(case) else run_lrt_case(case)
  write_case(res, case$name)
  if (is.null(case$model0)) {
    cat(sprintf("%-32s conv %s chisq %10.4f df %3s scaled %10.4f warnings %d\n", case$name,
                res$converged, res$fit_measures$chisq, res$fit_measures$df,
                res$fit_measures$chisq.scaled, length(res$warnings)))
  } else {
    last <- res$lrt[[2]]
    cat(sprintf("%-32s diff %10.4f df %s p %.6f scale %.6f shift %.6f\n", case$name,
                last[["Chisq diff"]], last[["Df diff"]], last[["Pr(>Chisq)"]],
                res$lrt_scale[2], res$lrt_shift[2]))
  }
}
