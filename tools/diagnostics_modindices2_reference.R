# lavaan reference results for the second round of modification indices and score tests:
# modindices() of a two-level model, modindices() and lavTestScore() with the observed and the
# first-order information, lavTestScore()'s joint epc table, and models with user equality
# constraints (`a == b`) released by lavTestScore(release = ...).
# Usage: Rscript tools/diagnostics_modindices2_reference.R DATA_DIR OUT_DIR
#        (DATA_DIR: semlang/datasets, OUT_DIR: tests/reference/diagnostics)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
hs_eq <- "
  visual  =~ x1 + a*x2 + a*x3
  textual =~ x4 + b*x5 + c*x6
  speed   =~ x7 + d*x8 + e*x9
  b == c
  d == e
"
hs_eq_groups <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + c(b1, b2)*x5 + c(c1, c2)*x6
  speed   =~ x7 + x8 + x9
  b1 == c1
  b2 == c2
"
twolevel <- "
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
"
HS <- "HolzingerSwineford1939.csv"; TL <- "Demo.twolevel.csv"
read <- function(file) read.csv(file.path(data_dir, file))
mi_cols <- c("lhs", "op", "rhs", "block", "group", "level", "mi", "epc", "sepc.lv", "sepc.all",
             "sepc.nox")

fit_case <- function(model, data_file, options, prep = NULL, fun = "cfa") {
  d <- read(data_file)
  if (!is.null(prep)) d <- punch_holes(d)
  do.call(fun, c(list(model = model, data = d), options))
}

score_list <- function(out) {
  res <- list(test = as.data.frame(out$test), uni = as.data.frame(out$uni))
  if (!is.null(out$cumulative)) res$cumulative <- as.data.frame(out$cumulative)
  if (!is.null(out$epc)) res$epc <- as.data.frame(out$epc)
  res
}

constraints <- function(fit) {
  pt <- parTable(fit)
  pt[pt$op == "==", c("lhs", "op", "rhs")]
}

case_head <- function(model, data_file, options, prep, fun) {
  list(model = model, fun = fun, options = options, data = data_file,
       prep = if (is.null(prep)) NULL else "hs_holes",
       prep_text = if (is.null(prep)) NULL else holes_text)
}

# modindices() with each information type lavaan accepts for the fit
mi_case <- function(name, model, data_file, options = no_options, prep = NULL, fun = "cfa",
                    information = c("expected", "observed", "first.order")) {
  fit <- fit_case(model, data_file, options, prep, fun)
  res <- c(case_head(model, data_file, options, prep, fun),
           list(nobs = lavInspect(fit, "ntotal"), constraints = constraints(fit)))
  for (info in information) {
    mi <- tryCatch(as.data.frame(modindices(fit, information = info)),
                   error = function(e) conditionMessage(e))
    res[[paste0("modindices_", info)]] <- if (is.character(mi)) list(error = mi) else
      mi[, intersect(mi_cols, names(mi))]
  }
  write_case(res, paste0("modindices2_", name))
  fit
}

# lavTestScore() with each information type
score_case <- function(name, fit, model, data_file, options = no_options, prep = NULL,
                       fun = "cfa", add = NULL, release = NULL,
                       information = c("expected", "observed", "first.order")) {
  res <- c(case_head(model, data_file, options, prep, fun),
           list(add = add, release = release, constraints = constraints(fit)))
  for (info in information) {
    st <- tryCatch(lavTestScore(fit, add = add, release = release, cumulative = TRUE,
                                epc = TRUE, information = info, warn = FALSE),
                   error = function(e) conditionMessage(e))
    res[[info]] <- if (is.character(st)) list(error = st) else score_list(st)
  }
  write_case(res, paste0("score2_", name))
}

# one group, several groups, FIML and FIML + MLR, a two-level model
fit <- mi_case("hs_cfa", hs, HS)
score_case("hs_add", fit, hs, HS, add = "x1 ~~ x4\nvisual =~ x9")
opts <- list(group = "school", group.equal = c("loadings", "intercepts"))
fit <- mi_case("hs_groups_equal", hs, HS, opts)
score_case("hs_groups_release", fit, hs, HS, opts, release = c(1, 4))
score_case("hs_groups_add", fit, hs, HS, opts, add = "x7 ~~ x8")
fit <- mi_case("hs_fiml", hs, HS, list(missing = "ml"), prep = TRUE)
score_case("hs_fiml_add", fit, hs, HS, list(missing = "ml"), prep = TRUE,
           add = "x1 ~~ x4\nvisual =~ x9")
invisible(mi_case("hs_fiml_mlr", hs, HS, list(missing = "ml", estimator = "MLR"), prep = TRUE))
fit <- mi_case("twolevel", twolevel, TL, list(cluster = "cluster"), fun = "sem")
score_case("twolevel_add", fit, twolevel, TL, list(cluster = "cluster"), fun = "sem",
           add = "y1 ~~ y2")

# user equality constraints: modindices() and releasing them
fit <- mi_case("hs_user_eq", hs_eq, HS)
score_case("hs_user_eq_release", fit, hs_eq, HS, release = c(2, 3))
score_case("hs_user_eq_all", fit, hs_eq, HS, release = c(1, 2, 3))
opts <- list(group = "school", group.equal = "intercepts")
fit <- mi_case("hs_user_eq_groups", hs_eq_groups, HS, opts)
n_eq <- nrow(constraints(fit))
score_case("hs_user_eq_groups_release", fit, hs_eq_groups, HS, opts, release = c(1, 2, n_eq))
