# lavaan reference results for the continuous-data estimators (ML, MLM, MLMV, MLMVS, MLF, MLR,
# GLS, WLS, DWLS, ULS), the test= and se= variants, likelihood = "wishart", FIML with robust
# corrections, missing = "ml.x", cluster-robust single-level fits, the Bollen-Stine bootstrap and
# the combinations lavaan refuses. Every file keeps the whole fitMeasures() vector and every
# element of lavInspect(fit, "test"); a refused case keeps lavaan's error text instead.
# Usage: Rscript tools/estimators_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
timing_runs <- 10L

# ---- models ------------------------------------------------------------------------------------
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
growth <- "
  i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
  s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
"
path <- "
  y1 ~ x1 + x2
  y5 ~ y1 + x1 + x3
"
cluster_model <- "
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"; GROWTH <- "Demo.growth.csv"
TWOLEVEL <- "Demo.twolevel.csv"

# ---- data preparations (by name, as in groups_reference.R) -------------------------------------
preps <- list(
  hs_holes = list(text = paste(
    "with i the 1-based row number: x1 missing where i %% 7 == 0, x4 where i %% 9 == 2,",
    "x8 where i %% 11 == 4, x3 where i %% 13 == 1 and i is odd (as in groups_reference.R)"),
    fun = punch_holes),
  hs_first30 = list(text = "the first 30 rows only (d[1:30, ])", fun = function(d) d[1:30, ]),
  poldem_missing_x = list(text = paste(
    "with i the 1-based row number: x1 missing where i %% 10 == 3, x3 where i %% 8 == 5,",
    "y5 where i %% 12 == 7"),
    fun = function(d) {
      i <- seq_len(nrow(d))
      d$x1[i %% 10 == 3] <- NA
      d$x3[i %% 8 == 5] <- NA
      d$y5[i %% 12 == 7] <- NA
      d
    })
)

# ---- cases -------------------------------------------------------------------------------------
case <- function(name, about, fun, data, model, options = list(), prep = NULL, ...)
  c(list(name = name, about = about, fun = fun, data = data, model = model, options = options,
         prep = prep), list(...))
bases <- list(
  hs_cfa = list(about = "HS three-factor CFA", fun = "cfa", data = HS, model = hs, options = list()),
  poldem = list(about = "Political Democracy SEM (a, b, c loadings equal over time)", fun = "sem",
                data = PD, model = poldem, options = list()),
  growth = list(about = "linear growth model on Demo.growth", fun = "growth", data = GROWTH,
                model = growth, options = list()),
  hs_groups = list(about = "HS CFA by school, equal loadings and intercepts", fun = "cfa",
                   data = HS, model = hs,
                   options = list(group = "school", group.equal = c("loadings", "intercepts"))))
on <- function(base, name, about, options, ...) {
  b <- bases[[base]]
  case(name, paste0(b$about, ", ", about), b$fun, b$data, b$model, c(b$options, options), ...)
}

estimators <- c("ML", "MLM", "MLMV", "MLMVS", "MLF", "MLR", "GLS", "WLS", "DWLS", "ULS")
estimator_cases <- unlist(lapply(names(bases), function(base) lapply(estimators, function(est)
  on(base, paste0(base, "_", est), paste0("estimator ", est, " with lavaan's own se/test defaults"),
     list(estimator = est)))), recursive = FALSE)

hs_tests <- c("standard", "satorra.bentler", "yuan.bentler", "yuan.bentler.mplus",
              "mean.var.adjusted", "scaled.shifted", "browne.residual.adf", "browne.residual.nt",
              "browne.residual.adf.model", "browne.residual.nt.model", "none")
test_case <- function(base, prefix, test) {
  tag <- paste(test, collapse = "+")
  on(base, paste0(prefix, "_test_", if (length(test) > 1) "three" else test),
     paste0("estimator ML, test = ", tag), list(estimator = "ML", test = if (length(test) > 1) I(test) else test))
}
test_cases <- c(
  lapply(hs_tests, function(t) test_case("hs_cfa", "hs", t)),
  list(test_case("hs_cfa", "hs", c("satorra.bentler", "mean.var.adjusted", "scaled.shifted"))),
  lapply(c("satorra.bentler", "yuan.bentler", "mean.var.adjusted", "scaled.shifted",
           "browne.residual.adf"), function(t) test_case("poldem", "poldem", t)),
  lapply(c("satorra.bentler", "scaled.shifted"), function(t) test_case("hs_groups", "hs_groups", t)))

se_case <- function(se, information = NULL) {
  opts <- list(estimator = "ML", se = se)
  if (!is.null(information)) opts$information <- information
  on("hs_cfa", paste0("hs_se_", se, if (is.null(information)) "" else paste0("_", information)),
     paste0("estimator ML, se = ", se, if (is.null(information)) "" else paste0(", information = ", information)),
     opts)
}
se_cases <- c(
  lapply(c("standard", "robust", "first.order", "none"), se_case),
  list(se_case("robust.sem", "expected"), se_case("robust.sem", "observed"),
       se_case("robust.huber.white", "expected"), se_case("robust.huber.white", "observed")),
  list(case("hs_holes_se_robust", "HS CFA with holes (hs_holes), estimator ML, missing = 'fiml', se = 'robust'",
            "cfa", HS, hs, list(estimator = "ML", missing = "fiml", se = "robust"), prep = "hs_holes")))

likelihood_cases <- c(
  unlist(lapply(c("hs_cfa", "poldem", "hs_groups"), function(base) lapply(c("wishart", "normal"),
    function(lik) on(base, paste0(base, "_ML_", lik), paste0("estimator ML, likelihood = ", lik),
                     list(estimator = "ML", likelihood = lik)))), recursive = FALSE),
  list(on("hs_cfa", "hs_cfa_MLM_wishart", "estimator MLM, likelihood = wishart",
          list(estimator = "MLM", likelihood = "wishart"))))

fiml_cases <- lapply(c("ML", "MLR", "MLF", "MLM"), function(est)
  case(paste0("hs_holes_fiml_", est),
       paste0("HS CFA with holes (hs_holes), estimator ", est, ", missing = 'fiml'"),
       "cfa", HS, hs, list(estimator = est, missing = "fiml"), prep = "hs_holes"))

mlx_cases <- list(
  case("poldem_path_missing_x_ml", paste(
         "path model with observed exogenous x1, x2, x3 (fixed.x) where x1, x3 and y5 have missing",
         "values, missing = 'ml': rows missing an exogenous covariate are dropped"),
       "sem", PD, path, list(missing = "ml"), prep = "poldem_missing_x"),
  case("poldem_path_missing_x_ml.x", paste(
         "the same path model and data with missing = 'ml.x': rows missing an exogenous covariate",
         "are kept (the covariates enter the likelihood)"),
       "sem", PD, path, list(missing = "ml.x"), prep = "poldem_missing_x"))

cluster_cases <- list(
  case("twolevel_cluster_MLR", "single-level MIMIC (fw =~ y1 + y2 + y3; fw ~ x1 + x2 + x3) on Demo.twolevel, cluster = 'cluster', estimator MLR",
       "sem", TWOLEVEL, cluster_model, list(estimator = "MLR", cluster = "cluster")),
  case("twolevel_cluster_MLM", "the same single-level model with cluster = 'cluster', estimator MLM",
       "sem", TWOLEVEL, cluster_model, list(estimator = "MLM", cluster = "cluster")),
  case("twolevel_cluster_ML_robust_cluster", "the same single-level model with cluster = 'cluster', estimator ML, se = 'robust.cluster'",
       "sem", TWOLEVEL, cluster_model, list(estimator = "ML", se = "robust.cluster", cluster = "cluster")),
  case("twolevel_cluster_ML", "the same single-level model with cluster = 'cluster', estimator ML and nothing else (lavaan's defaults with a cluster variable)",
       "sem", TWOLEVEL, cluster_model, list(estimator = "ML", cluster = "cluster")))

error_cases <- list(
  case("error_hs_first30_WLS", "WLS on the first 30 rows of HS: 30 rows for 45 second moments",
       "cfa", HS, hs, list(estimator = "WLS"), prep = "hs_first30"),
  case("error_hs_holes_GLS_fiml", "estimator GLS with missing = 'fiml'",
       "cfa", HS, hs, list(estimator = "GLS", missing = "fiml"), prep = "hs_holes"),
  case("error_hs_holes_MLMV_fiml", "estimator MLMV with missing = 'fiml'",
       "cfa", HS, hs, list(estimator = "MLMV", missing = "fiml"), prep = "hs_holes"),
  case("error_hs_holes_bollen_stine_fiml", "test = 'bollen.stine' with missing = 'fiml'",
       "cfa", HS, hs, list(estimator = "ML", missing = "fiml", test = "bollen.stine", bootstrap = 10L),
       prep = "hs_holes"))

bollen_stine <- case("hs_bollen_stine", paste(
    "HS CFA, estimator ML, test = 'bollen.stine' with 1000 draws (set.seed(seed) right before the fit);",
    "bootstrapLavaan is a separate standard ML fit bootstrapped with type = 'bollen.stine'"),
  "cfa", HS, hs, list(estimator = "ML", test = "bollen.stine", bootstrap = 1000L),
  seed = 20230401L, boot_R = 500L, boot_seed = 20230402L, timing_runs = 1L)

poldem_bollen_stine <- case("poldem_bollen_stine", paste(
    "the Political Democracy SEM (which fits: p about 0.37), estimator ML, test = 'bollen.stine' with",
    "1000 draws (set.seed(seed) right before the fit); bootstrapLavaan as in hs_bollen_stine"),
  "sem", PD, poldem, list(estimator = "ML", test = "bollen.stine", bootstrap = 1000L),
  seed = 20230403L, boot_R = 500L, boot_seed = 20230404L, timing_runs = 1L)

cases <- c(estimator_cases, test_cases, se_cases, likelihood_cases, fiml_cases, mlx_cases,
           cluster_cases, error_cases, list(bollen_stine, poldem_bollen_stine))

# ---- helpers -----------------------------------------------------------------------------------
json_options <- function(opts) {
  if (!length(opts)) return(no_options)
  for (key in c("group.equal", "test")) {
    if (!is.null(opts[[key]]) && length(opts[[key]]) > 1) opts[[key]] <- I(as.character(opts[[key]]))
  }
  opts
}
finite_or_na <- function(x) { x <- unclass(x); x[!is.finite(x)] <- NA; x }

# The options lavaan settled on (its defaults for the estimator filled in).
used_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keys <- c("estimator", "se", "test", "information", "observed.information", "h1.information",
            "likelihood", "missing", "meanstructure", "fixed.x")
  out <- lapply(keys, function(k) { v <- o[[k]]; if (length(v) > 1) I(v) else v })
  setNames(out, keys)
}

test_fields <- c("test", "stat", "stat.group", "df", "refdistr", "pvalue", "scaling.factor",
                 "shift.parameter", "trace.UGamma", "trace.UGamma2", "trace.UGamma3",
                 "scaled.test.stat", "scaled.test", "label", "boot.T", "replications")
tests_of <- function(fit) {
  tl <- lavInspect(fit, "test")
  lapply(tl, function(t) {
    out <- list()
    for (k in intersect(test_fields, names(t))) {
      v <- t[[k]]
      if (k == "boot.T") {  # the draws themselves are not kept, only their summary
        out$boot.T.mean <- mean(v, na.rm = TRUE); out$boot.T.sd <- sd(v, na.rm = TRUE)
        out$boot.T.n <- sum(!is.na(v)); next
      }
      if (is.numeric(v)) v <- finite_or_na(v)
      out[[k]] <- if (k == "stat.group") I(v) else v
    }
    out
  })
}

fit_measures_of <- function(fit) tryCatch(
  list(fit_measures = as.list(finite_or_na(fitMeasures(fit)))),
  error = function(e) list(fit_measures = no_options, fit_measures_error = conditionMessage(e)))

prepared <- function(case) {
  data <- read.csv(file.path(data_dir, case$data))
  if (!is.null(case$prep)) data <- preps[[case$prep]]$fun(data)
  data
}

header <- function(case) list(
  name = case$name, about = case$about, fun = case$fun, data = case$data,
  prep = if (is.null(case$prep)) NA else case$prep,
  prep_text = if (is.null(case$prep)) NA else preps[[case$prep]]$text,
  model = case$model, options = json_options(case$options),
  lavaan_version = as.character(packageVersion("lavaan")))

bootstrap_lavaan_summary <- function(case, data) {
  opts <- case$options; opts$test <- NULL; opts$bootstrap <- NULL
  fit <- do.call(case$fun, c(list(model = case$model, data = data), opts))
  t_orig <- fitMeasures(fit, "chisq")[[1]]
  set.seed(case$boot_seed)
  warns <- character(0)
  boot <- withCallingHandlers(
    bootstrapLavaan(fit, R = case$boot_R, type = "bollen.stine", FUN = fitMeasures,
                    fit.measures = "chisq"),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  t_boot <- as.numeric(boot[, 1])
  list(call = sprintf("set.seed(%d); bootstrapLavaan(fit, R = %d, type = \"bollen.stine\", FUN = fitMeasures, fit.measures = \"chisq\")",
                      case$boot_seed, case$boot_R),
       R = case$boot_R, seed = case$boot_seed, chisq_original = t_orig,
       draws_used = sum(!is.na(t_boot)), chisq_boot_mean = mean(t_boot, na.rm = TRUE),
       chisq_boot_sd = sd(t_boot, na.rm = TRUE),
       pvalue = mean(t_boot[!is.na(t_boot)] >= t_orig), warnings = I(unique(warns)))
}

run_case <- function(case) {
  data <- prepared(case)
  res <- header(case)
  if (!is.null(case$seed)) { res$seed <- case$seed; set.seed(case$seed) }
  # as fit_with_warnings, but lavaan's warnings before a refusal are kept with its error
  warns <- character(0)
  r <- tryCatch(list(fit = withCallingHandlers(
      do.call(case$fun, c(list(model = case$model, data = data), case$options)),
      warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })),
    error = function(e) list(error = conditionMessage(e)))
  r$warnings <- unique(trimws(warns))
  if (!is.null(r$error)) return(c(res, list(error = trimws(r$error), warnings = I(r$warnings))))
  fit <- r$fit
  call_args <- c(list(model = case$model, data = data), case$options)
  runs <- if (is.null(case$timing_runs)) timing_runs else case$timing_runs
  times <- sapply(seq_len(runs), function(i)
    system.time(suppressWarnings(do.call(case$fun, call_args)))[["elapsed"]])
  res <- c(res, list(
    nobs = I(lavInspect(fit, "nobs")), converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"), warnings = I(r$warnings),
    lavaan_options = used_options(fit)))
  if (lavInspect(fit, "ngroups") > 1) res$group_labels <- I(lavInspect(fit, "group.label"))
  if (!is.null(case$options$cluster))  # clusters among the rows lavaan used
    res$nclusters <- length(unique(data[[case$options$cluster]][unlist(lavInspect(fit, "case.idx"))]))
  res <- c(res, list(estimates = estimates(fit)), fit_measures_of(fit),
           list(tests = tests_of(fit), lavaan_seconds_median = median(times), timing_runs = runs))
  if (!is.null(case$boot_R)) res$bootstrap_lavaan <- bootstrap_lavaan_summary(case, data)
  res
}

# ---- run ---------------------------------------------------------------------------------------
only <- if (length(args) > 2) args[-(1:2)] else NULL
for (case in cases) {
  if (!is.null(only) && !(case$name %in% only)) next
  res <- run_case(case)
  write_case(res, case$name)
  if (!is.null(res$error)) {
    cat(sprintf("%-38s ERROR %s\n", case$name, gsub("\\s+", " ", res$error)))
    next
  }
  fm <- res$fit_measures
  cat(sprintf("%-38s conv %s chisq %10.4f df %3s se %-18s test %-40s sec %.3f warnings %d\n",
              case$name, res$converged, if (is.null(fm$chisq)) NA else fm$chisq,
              if (is.null(fm$df)) NA else fm$df, res$lavaan_options$se,
              paste(res$lavaan_options$test, collapse = ","), res$lavaan_seconds_median,
              length(res$warnings)))
  for (w in res$warnings) cat("   warning:", gsub("\\s+", " ", w), "\n")
}
