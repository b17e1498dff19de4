# lavaan reference results for two-level models fitted with estimator = "MLR": robust
# (Huber-White) standard errors from the clusters' scores and the Yuan-Bentler (Mplus variant)
# scaled test. Each file keeps the estimates (with se), the whole fitMeasures() vector, every
# element of lavInspect(fit, "test") and the options lavaan settled on; the first case also
# lavTestLRT() against a nested model (its scaled difference test).
# Usage: Rscript tools/twolevel_mlr_reference.R DATA_DIR OUT_DIR
#        (DATA_DIR: semlang/datasets, OUT_DIR: tests/reference/estimators)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

cases <- list(
  list(name = "twolevel_demo_MLR",
       about = "lavaan's two-level tutorial model (as twolevel_demo) with estimator MLR",
       data = "Demo.twolevel.csv", model = "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
", options = list(cluster = "cluster", estimator = "MLR"),
       nested = "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + 0*w2
"),
  list(name = "twolevel_within_only_MLR",
       about = "Demo.twolevel: a level-1-only outcome (x1, free intercept) on the within factor, MLR",
       data = "Demo.twolevel.csv", model = "
level: 1
  fw =~ y1 + y2 + y3
  x1 ~ fw
level: 2
  fb =~ y1 + y2 + y3
", options = list(cluster = "cluster", estimator = "MLR")),
  list(name = "micro_macro_twolevel_MLR",
       about = "the micro-macro two-level model (as micro_macro_twolevel) with estimator MLR",
       data = "micro_macro_unbalanced_long.csv", model = "
level: 1
  x ~~ x
level: 2
  y ~ x + Z
  x ~~ Z
", options = list(cluster = "group", estimator = "MLR"))
)

finite_or_na <- function(x) { x <- unclass(x); x[!is.finite(x)] <- NA; x }
test_fields <- c("test", "stat", "stat.group", "df", "refdistr", "pvalue", "scaling.factor",
                 "shift.parameter", "trace.UGamma", "scaled.test.stat", "scaled.test", "label")
tests_of <- function(fit) lapply(lavInspect(fit, "test"), function(t) {
  out <- list()
  for (k in intersect(test_fields, names(t))) {
    v <- t[[k]]
    if (is.numeric(v)) v <- finite_or_na(v)
    out[[k]] <- if (k == "stat.group") I(v) else v
  }
  out
})
used_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keys <- c("estimator", "se", "test", "information", "observed.information", "h1.information",
            "fixed.x")
  setNames(lapply(keys, function(k) { v <- o[[k]]; if (length(v) > 1) I(v) else v }), keys)
}

for (case in cases) {
  data <- read.csv(file.path(data_dir, case$data))
  fit <- do.call("sem", c(list(model = case$model, data = data), case$options))
  res <- list(name = case$name, about = case$about, fun = "sem", data = case$data, prep = NA,
              model = case$model, options = case$options,
              lavaan_version = as.character(packageVersion("lavaan")),
              used_options = used_options(fit), nobs = lavInspect(fit, "ntotal"),
              converged = lavInspect(fit, "converged"), estimates = estimates(fit),
              fit_measures = as.list(finite_or_na(fitMeasures(fit))), tests = tests_of(fit))
  if (!is.null(case$nested)) {  # lavTestLRT(fit, nested fit): MLR's scaled difference test
    fit0 <- do.call("sem", c(list(model = case$nested, data = data), case$options))
    lrt <- as.data.frame(lavTestLRT(fit, fit0))
    res$nested <- case$nested
    res$lrt <- c(list(model = rownames(lrt)), as.list(lrt))
  }
  write_case(res, case$name)
}
