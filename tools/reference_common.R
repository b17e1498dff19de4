# What the lavaan reference scripts (extra_, groups_ and fitting_reference.R) share: the fit
# measures and estimate columns they keep, a fit that records lavaan's warnings, the estimates
# table and the JSON writer. Sourced by those scripts after they set `out_dir`.
suppressMessages({library(lavaan); library(jsonlite)})

fm_names <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
              "logl", "unrestricted.logl", "aic", "bic", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "rmsea.pvalue", "srmr")
est_cols <- c("lhs", "op", "rhs", "block", "group", "level", "label", "est", "se", "z", "pvalue",
              "ci.lower", "ci.upper", "std.lv", "std.all")
no_options <- setNames(list(), character(0))

# fun(model, data, options...) with lavaan's warnings collected instead of printed
fit_with_warnings <- function(fun, model, data, options) {
  warns <- character(0)
  fit <- withCallingHandlers(
    do.call(fun, c(list(model = model, data = data), options)),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(fit = fit, warnings = warns)
}

# every row (fixed, :=, constraints) with confidence intervals and std.lv / std.all
estimates <- function(fit, columns = est_cols) {
  pt <- parameterEstimates(fit, ci = TRUE, standardized = TRUE, remove.nonfree = FALSE,
                           remove.system.eq = TRUE, remove.eq = FALSE, remove.ineq = FALSE,
                           remove.def = FALSE)
  if (is.null(pt$label)) pt$label <- ""
  pt[, intersect(columns, names(pt))]
}

write_case <- function(res, name) {
  write_json(res, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE, na = "null")
}
