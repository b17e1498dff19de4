# lavaan 0.6.14 references for the last diagnostics gaps (gaps14b_<case>.json, the layout of
# gaps14_<case>.json):
#   * lavInspect(fit, "vcov.std.all" / "vcov.std.lv" / "vcov.std.nox") of a two-level model, of a
#     model with fixed.x covariates and of a model with equality constraints in two groups;
#   * resid() / lavResiduals() of least-squares fits with robust standard errors (WLSMV, ULSMV,
#     WLSM, DWLS with se = "robust.sem", several groups): lavaan 0.6.14 refuses the standardized
#     and normalized residuals there ("information = "first.order" not available for estimator
#     ..."); the JSON keeps its error message and the raw / correlation residuals it does give.
# Usage: Rscript tools/diagnostics_gaps14b_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
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
mimic_paths <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual ~ ageyr + sex
  x7 ~ textual + x9
  x8 ~ x7
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

case <- function(name, about, fun, data, model, options = list(), inspect = character(0))
  list(name = name, about = about, fun = fun, data = data, model = model, options = options,
       inspect = inspect)
vcov_std <- c("vcov", "vcov.std.all", "vcov.std.lv", "vcov.std.nox")
cases <- list(
  case("twolevel", "two-level model on Demo.twolevel (cluster = 'cluster')", "sem", TL, twolevel,
       list(cluster = "cluster"), inspect = vcov_std),
  case("hs_mimic_paths", "HS: two factors on ageyr and sex, x7 on textual and x9, x8 on x7",
       "sem", HS, mimic_paths, inspect = vcov_std),
  case("hs_groups_equal", "HS CFA by school, group.equal = loadings and intercepts", "cfa", HS,
       hs, list(group = "school", group.equal = c("loadings", "intercepts")), inspect = vcov_std),
  case("hs_wlsmv", "HS CFA, estimator WLSMV (continuous data)", "cfa", HS, hs,
       list(estimator = "WLSMV")),
  case("hs_ulsmv", "HS CFA, estimator ULSMV (continuous data)", "cfa", HS, hs,
       list(estimator = "ULSMV")),
  case("hs_wlsm", "HS CFA, estimator WLSM (continuous data)", "cfa", HS, hs,
       list(estimator = "WLSM")),
  case("hs_dwls_robust", "HS CFA, estimator DWLS with se = robust.sem", "cfa", HS, hs,
       list(estimator = "DWLS", se = "robust.sem")),
  case("hs_wlsmv_groups", "HS CFA by school, estimator WLSMV", "cfa", HS, hs,
       list(estimator = "WLSMV", group = "school")))

# ser(), finite() and safely(): tools/reference_common.R

res_types <- c("raw", "cor", "cor.bollen", "cor.bentler", "standardized", "normalized")

run_case <- function(cs) {
  d <- read.csv(file.path(data_dir, cs$data))
  fit <- do.call(cs$fun, c(list(model = cs$model, data = d), cs$options))
  out <- list(name = cs$name, about = cs$about, fun = cs$fun, data = cs$data, model = cs$model,
              options = if (length(cs$options)) cs$options else no_options,
              lavaan_version = as.character(packageVersion("lavaan")),
              ngroups = lavInspect(fit, "ngroups"),
              group_label = I(lavInspect(fit, "group.label")),
              converged = lavInspect(fit, "converged"),
              se = lavInspect(fit, "options")$se)
  if (lavInspect(fit, "nlevels") == 1) {
    out$resid <- setNames(lapply(res_types, function(t) safely(resid(fit, type = t))), res_types)
    out$lavResiduals <- setNames(lapply(c("cor.bentler", "cor.bollen", "raw"), function(t)
      safely(lavResiduals(fit, type = t))), c("cor.bentler", "cor.bollen", "raw"))
  }
  out$coef <- safely(coef(fit))
  if (length(cs$inspect))
    out$inspect <- setNames(lapply(cs$inspect, function(w) safely(lavInspect(fit, w))), cs$inspect)
  write_case(out, paste0("gaps14b_", cs$name))
}
for (cs in cases) run_case(cs)
