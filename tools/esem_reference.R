# lavaan reference results for composites ('<~') and exploratory SEM (efa("block")* factors in
# cfa/sem model strings): estimates (rotated, with the standard errors lavaan's default
# rotation.se = "bordered" gives), the unrotated estimates, the standardized solution with its
# standard errors, fit measures; and what lavaan does
# with doubtful efa blocks (a fit with its warnings, or lavaan's error).
# Usage: Rscript tools/esem_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
HS <- "HolzingerSwineford1939.csv"; PD <- "PoliticalDemocracy.csv"

hs9 <- "x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9"
esem3 <- paste('efa("efa1")*f1 + efa("efa1")*f2 + efa("efa1")*f3 =~', hs9)
structural <- '
  efa("b1")*f1 + efa("b1")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6
  speed =~ x7 + x8 + x9
  speed ~ f1 + f2
'
mimic <- '
  efa("b1")*f1 + efa("b1")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6
  f1 + f2 ~ ageyr + sex
'
composite <- '
  ind60 <~ 1*x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
'
target <- matrix(0, 9, 3)
target[1:3, 1] <- 1; target[4:6, 2] <- 1; target[7:9, 3] <- 1
composite_hs <- '
  comp <~ 1*x1 + x2 + x3
  textual =~ x4 + x5 + x6
  textual ~ comp
'
case <- function(name, about, fun, data, model, options = list())
  list(name = name, about = about, fun = fun, data = data, model = model, options = options)
cases <- list(
  case("composite_poldem", "a composite ind60 of x1, x2, x3 (first weight fixed) predicting two factors",
       "sem", PD, composite),
  case("composite_hs_groups", "a composite of x1, x2, x3 predicting a factor, by school",
       "sem", HS, composite_hs, list(group = "school")),
  case("esem_hs_geomin", "one efa block of 3 factors on x1..x9, geomin (lavaan's default)",
       "cfa", HS, esem3),
  case("esem_hs_oblimin", "one efa block of 3 factors on x1..x9, oblimin",
       "cfa", HS, esem3, list(rotation = "oblimin")),
  case("esem_hs_varimax", "one efa block of 3 factors on x1..x9, varimax (orthogonal)",
       "cfa", HS, esem3, list(rotation = "varimax")),
  case("esem_hs_structural", "an efa block of 2 factors on x1..x6 and a CFA factor on x7..x9 regressed on them",
       "sem", HS, structural),
  case("esem_hs_mimic", "an efa block of 2 factors on x1..x6 regressed on ageyr and sex (covariates)",
       "sem", HS, mimic),
  case("esem_hs_groups", "one efa block of 3 factors on x1..x9 by school, geomin",
       "cfa", HS, esem3, list(group = "school")),
  case("esem_hs_groups_equal", "one efa block of 3 factors on x1..x9 by school with equal loadings, geomin",
       "cfa", HS, esem3, list(group = "school", group.equal = "loadings")),
  case("esem_hs_mlr", "one efa block of 3 factors on x1..x9, geomin, estimator MLR",
       "cfa", HS, esem3, list(estimator = "MLR")),
  case("esem_hs_mlm", "one efa block of 3 factors on x1..x9, geomin, estimator MLM",
       "cfa", HS, esem3, list(estimator = "MLM")),
  case("esem_hs_uls", "one efa block of 3 factors on x1..x9, geomin, estimator ULS",
       "cfa", HS, esem3, list(estimator = "ULS")),
  case("esem_hs_target", "one efa block of 3 factors on x1..x9, target rotation (x1-x3, x4-x6, x7-x9 on one factor each)",
       "cfa", HS, esem3, list(rotation = "target", rotation.args = list(target = target))),
  case("esem_hs_structural_stdlv", "the structural ESEM with std.lv = TRUE",
       "sem", HS, structural, list(std.lv = TRUE)),
  case("esem_error_few_indicators", "3 efa factors on 4 indicators (not identified)",
       "cfa", HS, 'efa("b")*f1 + efa("b")*f2 + efa("b")*f3 =~ x1 + x2 + x3 + x4'),
  case("esem_error_fixed_loading", "an efa block with a loading fixed to 1",
       "cfa", HS, 'efa("b")*f1 + efa("b")*f2 =~ 1*x1 + x2 + x3 + x4 + x5 + x6'),
  case("esem_error_regression", "efa() on a '~' row",
       "sem", HS, 'efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6\n x7 ~ efa("b")*x1'),
  case("esem_error_label_block", "a loading labelled with the block's name",
       "cfa", HS, 'efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + b*x3 + x4 + x5 + x6')
)

run_case <- function(cs) {
  data <- read.csv(file.path(data_dir, cs$data))
  res <- list(name = cs$name, about = cs$about, fun = cs$fun, data = cs$data, model = cs$model,
              options = if (length(cs$options)) cs$options else no_options,
              lavaan_version = as.character(packageVersion("lavaan")))
  out <- tryCatch(fit_with_warnings(cs$fun, cs$model, data, cs$options),
                  error = function(e) list(error = conditionMessage(e)))
  if (!is.null(out$error)) return(c(res, list(error = out$error)))
  fit <- out$fit
  pt <- parTable(fit)
  est <- estimates(fit)
  extra <- list(
    nobs = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
    warnings = out$warnings, estimates = est,
    fit_measures = safely(fitMeasures(fit)),
    rotation = lavInspect(fit, "options")$rotation)
  if (!is.null(pt$est.unrotated)) {
    keep <- pt$op %in% c("=~", "~", "~~", "~1", "<~")
    extra$unrotated <- data.frame(lhs = pt$lhs[keep], op = pt$op[keep], rhs = pt$rhs[keep],
                                  group = pt$group[keep], est = pt$est.unrotated[keep])
    # standardizedSolution(): its standard errors come from forward differences through the
    # rotation, from the unrotated parameters and their covariance matrix
    std <- standardizedSolution(fit)
    extra$standardized <- data.frame(lhs = std$lhs, op = std$op, rhs = std$rhs,
                                     group = if (is.null(std$group)) 1L else std$group,
                                     est_std = std$est.std, se = std$se)
  }
  if (!is.null(cs$options$group)) extra$group_labels <- lavInspect(fit, "group.label")
  if (is.null(cs$options$group) && !startsWith(cs$name, "composite"))
    extra$scores_regression <- as.data.frame(lavPredict(fit)[1:20, , drop = FALSE])
  c(res, extra)
}

for (cs in cases) {
  set.seed(20240101L)  # random starts of the rotation
  write_case(run_case(cs), cs$name)
  cat(cs$name, "\n")
}
