# lavaan reference results for categorical fits beyond the categorical_fit cases' own files:
# - lrt_<estimator>: lavTestLRT of the hs_cut3 invariance sequence by school (configural; equal
#   thresholds and loadings; equal latent variances too) fitted by WLSM and ULSM, whose test is
#   Satorra-Bentler's, so lavTestLRT's default is the Satorra-Bentler (2001) scaled difference;
#   each fit's chisq, chisq.scaled and scaling factor are kept too;
# - stdsol_<case>: standardizedSolution(fit, type = "std.all") and type = "std.lv" (with se, z,
#   pvalue, ci) of four categorical_fit cases (WLSMV: delta, theta, a covariate, groups with
#   free scale factors);
# - robust_<case>: fitMeasures() of two WLSMV models with fixed thresholds (below).
# Usage: Rscript tools/categorical_tests_reference.R DATA_DIR OUT_DIR
#   (DATA_DIR: semlang/datasets; OUT_DIR: tests/reference/categorical_fit, which has the cut data)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
hs3 <- read.csv(file.path(out_dir, "hs_cut3.csv"))
hs_mixed <- hs3
hs_mixed[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
datasets <- list(hs_cut3 = hs3, hs_mixed = hs_mixed)
items <- paste0("x", 1:9)
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
equal <- list(configural = "", thresholds = c("thresholds", "loadings"),
              lv_variances = c("thresholds", "loadings", "lv.variances"))
for (estimator in c("WLSM", "ULSM")) {
  fits <- lapply(equal, function(ge)
    sem(hs_model, data = hs3, ordered = items, estimator = estimator, group = "school",
        group.equal = ge))
  lrt <- lavTestLRT(fits$configural, fits$thresholds, fits$lv_variances)
  name <- paste0("lrt_", tolower(estimator))
  write_case(list(
    name = name, about = paste("lavTestLRT of the hs_cut3 invariance sequence by school,",
                               estimator, "(method satorra.bentler.2001)"),
    model_text = hs_model, data = "hs_cut3",
    options = list(ordered = items, estimator = estimator, group = "school"),
    group_equal = equal,
    measures = lapply(fits, function(f) as.list(fitMeasures(f, c("chisq", "df", "chisq.scaled",
                                                                  "chisq.scaling.factor")))),
    heading = attr(lrt, "heading"), table = ser(as.data.frame(lrt))), name)
  cat(name, "\n")
}

stdsol <- function(fit, type) {
  s <- standardizedSolution(fit, type = type)
  s[, intersect(c("lhs", "op", "rhs", "group", "est.std", "se", "z", "pvalue", "ci.lower",
                  "ci.upper"), names(s))]
}
for (name in c("hs3_wlsmv", "hs3_theta", "mixed_wlsmv", "hs3_groups_thresholds")) {
  cs <- fromJSON(file.path(out_dir, paste0(name, ".json")), simplifyVector = TRUE)
  fit <- do.call("sem", c(list(model = cs$model_text, data = datasets[[cs$data]]),
                          as.list(cs$options)))
  res <- list(name = paste0("stdsol_", name), case = name,
              about = paste("standardizedSolution(fit, type = std.all / std.lv) of", name),
              std_all = ser(stdsol(fit, "std.all")), std_lv = ser(stdsol(fit, "std.lv")))
  write_case(res, res$name)
  cat(res$name, "\n")
}

# - robust_<case>: fitMeasures() of WLSMV models whose thresholds are not all free parameters of
#   their own: lavaan's robust RMSEA (its catML fit drops the thresholds and intercepts) is then
#   on the catML model's degrees of freedom, which differ from the model's.
robust_cases <- list(
  robust_fixed_threshold = list(
    about = "hs_cut3, 3-factor CFA with one threshold fixed (x3 | -0.5*t1)",
    model_text = paste(hs_model, "  x3 | -0.5*t1 + t2\n")),
  robust_latent_means = list(
    about = "hs_cut3, 3-factor CFA with each marker's first threshold fixed to 0, latent means free",
    model_text = paste(hs_model, "  x1 | 0*t1 + t2\n  x4 | 0*t1 + t2\n  x7 | 0*t1 + t2\n",
                       " visual ~ 1\n  textual ~ 1\n  speed ~ 1\n")))
for (name in names(robust_cases)) {
  cs <- robust_cases[[name]]
  fit <- sem(cs$model_text, data = hs3, ordered = items, estimator = "WLSMV")
  fm <- fitMeasures(fit)
  write_case(list(name = name, about = cs$about, model_text = cs$model_text, data = "hs_cut3",
                  options = list(ordered = items, estimator = "WLSMV"),
                  estimates = estimates(fit),
                  fit_measures = as.list(setNames(finite(fm), names(fm)))), name)
  cat(name, "\n")
}
