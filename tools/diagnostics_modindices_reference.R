# lavaan reference results for modification indices (modindices()), score tests (lavTestScore())
# and Wald tests (lavTestWald()). Each file keeps the model, the options, the data preparation
# and lavaan's table or test, row for row.
# Usage: Rscript tools/diagnostics_modindices_reference.R DATA_DIR OUT_DIR
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
poldem <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
poldem_wald <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ b1*ind60
  dem65 ~ b2*ind60 + b3*dem60
  y1 ~~ y5
"
mimic <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + grade
"
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"
read <- function(file) read.csv(file.path(data_dir, file))
mi_cols <- c("lhs", "op", "rhs", "block", "group", "level", "mi", "epc", "sepc.lv", "sepc.all",
             "sepc.nox", "delta", "ncp", "power", "decision")

fit_case <- function(model, data_file, options, prep = NULL, fun = "cfa") {
  d <- read(data_file)
  if (!is.null(prep)) d <- punch_holes(d)
  do.call(fun, c(list(model = model, data = d), options))
}

mi_case <- function(name, model, data_file, options = no_options, prep = NULL, fun = "cfa") {
  fit <- fit_case(model, data_file, options, prep, fun)
  mi <- as.data.frame(modindices(fit))
  pw <- as.data.frame(modindices(fit, power = TRUE))
  res <- list(model = model, fun = fun, options = options, data = data_file,
              prep = if (is.null(prep)) NULL else "hs_holes",
              prep_text = if (is.null(prep)) NULL else holes_text,
              nobs = lavInspect(fit, "ntotal"), chisq = fitMeasures(fit, "chisq")[[1]],
              modindices = mi[, intersect(mi_cols, names(mi))],
              power = pw[, intersect(mi_cols, names(pw))])
  write_case(res, paste0("modindices_", name))
}

score_list <- function(out) {
  res <- list(test = as.data.frame(out$test), uni = as.data.frame(out$uni))
  if (!is.null(out$cumulative)) res$cumulative <- as.data.frame(out$cumulative)
  if (!is.null(out$epc)) res$epc <- as.data.frame(out$epc)
  res
}

mi_case("hs_cfa", hs, HS)
mi_case("poldem_sem", poldem, PD, fun = "sem")
mi_case("hs_groups_equal", hs, HS,
        list(group = "school", group.equal = c("loadings", "intercepts")))
mi_case("hs_fiml", hs, HS, list(missing = "ml"), prep = TRUE)
mi_case("hs_fiml_mlr", hs, HS, list(missing = "ml", estimator = "MLR"), prep = TRUE)
mi_case("mimic", mimic, HS, fun = "sem")

# score tests
fit <- fit_case(hs, HS, no_options)
add <- "x1 ~~ x4\nvisual =~ x9"
st <- lavTestScore(fit, add = add, cumulative = TRUE, epc = TRUE)
write_case(c(list(model = hs, options = no_options, data = HS, add = add), score_list(st)),
           "modindices_score_hs_add")
opts <- list(group = "school", group.equal = c("loadings", "intercepts"))
fit <- fit_case(hs, HS, opts)
st <- lavTestScore(fit, cumulative = TRUE, epc = TRUE)
pt <- parTable(fit)
write_case(c(list(model = hs, options = opts, data = HS,
                  constraints = pt[pt$op == "==", c("lhs", "op", "rhs")]), score_list(st)),
           "modindices_score_hs_groups")
st <- lavTestScore(fit, release = c(1, 4))
write_case(c(list(model = hs, options = opts, data = HS, release = c(1, 4)), score_list(st)),
           "modindices_score_hs_groups_release")

# Wald tests
fit <- fit_case(poldem_wald, PD, no_options, fun = "sem")
for (case in list(list(name = "one", text = "b1 == 0"),
                  list(name = "two", text = "b1 == 0; b2 == b3"),
                  list(name = "expr", text = "b2 - 2*b3 == 0"))) {
  w <- lavTestWald(fit, constraints = case$text)
  write_case(list(model = poldem_wald, fun = "sem", options = no_options, data = PD,
                  constraints = case$text, stat = w$stat, df = w$df, pvalue = w$p.value,
                  se = w$se),
             paste0("modindices_wald_poldem_", case$name))
}
fit <- fit_case(poldem_wald, PD, list(estimator = "MLR"), fun = "sem")
w <- lavTestWald(fit, constraints = "b1 == 0; b2 == b3")
write_case(list(model = poldem_wald, fun = "sem", options = list(estimator = "MLR"), data = PD,
                constraints = "b1 == 0; b2 == b3", stat = w$stat, df = w$df, pvalue = w$p.value,
                se = w$se), "modindices_wald_poldem_mlr")
