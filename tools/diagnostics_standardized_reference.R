# lavaan references for the standardized solution with inference: standardizedSolution() for
# type = "std.all", "std.lv" and "std.nox" (delta-method se, z, pvalue, ci.lower, ci.upper), the
# parameterEstimates() std.nox column with level = 0.90, an improper solution (a negative
# residual variance) and the median time of one standardizedSolution() call.
# Usage: Rscript tools/diagnostics_standardized_reference.R DATA_DIR OUT_DIR
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
timing_runs <- 20L

hs <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
poldem_mediation <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  indirect := a*b
  total := c + a*b
"
mimic <- "
  visual =~ x1 + x2 + x3
  visual ~ ageyr + sex
  x1 ~~ x2
"
improper <- "
  visual  =~ x1 + x2 + x3 + x9
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  x7 ~~ x8
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

holes_text <- paste(
  "with i the 1-based row number: x1 missing where i %% 7 == 0, x4 where i %% 9 == 2,",
  "x8 where i %% 11 == 4, x3 where i %% 13 == 1 and i is odd (as in groups_reference.R)")

case <- function(name, about, fun, data, model, options = list(), prep = NULL)
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       prep = prep)
cases <- list(
  case("hs_cfa", "HS 3-factor CFA, ML", "cfa", HS, hs),
  case("poldem_mediation", "PolDem SEM with := indirect and total effects", "sem", PD,
       poldem_mediation),
  case("hs_groups_equal", "HS CFA, group = 'school', group.equal = c('loadings', 'intercepts')",
       "cfa", HS, hs, list(group = "school", group.equal = c("loadings", "intercepts"))),
  case("hs_mlr", "HS CFA, estimator MLR", "cfa", HS, hs, list(estimator = "MLR")),
  case("hs_fiml", "HS CFA with holes, missing = 'ml'", "cfa", HS, hs, list(missing = "ml"),
       prep = "hs_holes"),
  case("hs_mlm", "HS CFA, estimator MLM", "cfa", HS, hs, list(estimator = "MLM")),
  case("hs_mimic", "MIMIC with observed covariates ageyr and sex (fixed.x): std.nox", "sem", HS,
       mimic),
  case("hs_improper", paste("HS CFA plus visual =~ x9 and x7 ~~ x8: a negative residual",
                            "variance (x7), an improper solution"), "cfa", HS, improper),
  case("twolevel", "two-level SEM on Demo.twolevel", "sem", TL, twolevel,
       list(cluster = "cluster")))

std_cols <- c("lhs", "op", "rhs", "group", "label", "est.std", "se", "z", "pvalue", "ci.lower",
              "ci.upper")
solution <- function(fit, type) {
  s <- standardizedSolution(fit, type = type, output = "text")  # keeps the block column
  if (is.null(s$label)) s$label <- ""
  if (is.null(s$group)) s$group <- 1L
  if (lavInspect(fit, "nlevels") > 1) {
    pt <- parTable(fit)
    s$level <- pt$level[match(s$block, pt$block)]
  }
  as.data.frame(unclass(s))[, intersect(c(std_cols, "level"), names(s))]
}

for (cs in cases) {
  d <- read.csv(file.path(data_dir, cs$data))
  prep_text <- NULL
  if (identical(cs$prep, "hs_holes")) { d <- punch_holes(d); prep_text <- holes_text }
  res <- fit_with_warnings(cs$fun, cs$model, d, cs$options)
  fit <- res$fit
  sols <- lapply(c(std.all = "std.all", std.lv = "std.lv", std.nox = "std.nox"),
                 function(t) solution(fit, t))
  pe <- parameterEstimates(fit, level = 0.90, standardized = TRUE, remove.nonfree = FALSE,
                           remove.eq = FALSE, remove.ineq = FALSE, remove.def = FALSE)
  if (is.null(pe$label)) pe$label <- ""
  if (is.null(pe$group)) pe$group <- 1L
  pe <- pe[, intersect(c("lhs", "op", "rhs", "group", "level", "label", "est", "se", "ci.lower",
                         "ci.upper", "std.lv", "std.all", "std.nox"), names(pe))]
  secs <- sapply(seq_len(timing_runs), function(i)
    system.time(standardizedSolution(fit, type = "std.all"))[["elapsed"]])
  out <- list(name = cs$name, about = cs$about, fun = cs$fun, data = cs$data,
              prep = cs$prep, prep_text = prep_text, model = cs$model,
              options = if (length(cs$options)) lapply(cs$options, function(v)
                if (length(v) > 1) I(v) else v) else no_options,
              lavaan_version = as.character(packageVersion("lavaan")),
              warnings = I(res$warnings), standardized_solution = sols,
              estimates_level90 = pe,
              lavaan_standardized_solution_seconds_median = median(secs))
  write_case(out, paste0("standardized_", cs$name))
  cat(cs$name, "done\n")
}
