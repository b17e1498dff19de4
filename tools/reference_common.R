# What the lavaan reference scripts share: the fit measures and estimate columns they keep, a fit
# that records lavaan's warnings, the estimates table, the JSON writer, the hs_holes data and a
# serializer of lavaan's objects. Sourced by those scripts after they set `out_dir`.
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

# the Holzinger-Swineford data with holes (cases named hs_holes): with i the 1-based row number
punch_holes <- function(d) {
  i <- seq_len(nrow(d))
  d$x1[i %% 7 == 0] <- NA
  d$x4[i %% 9 == 2] <- NA
  d$x8[i %% 11 == 4] <- NA
  d$x3[i %% 13 == 1 & i %% 2 == 1] <- NA
  d
}
holes_text <- paste("with i the 1-based row number: x1 missing where i %% 7 == 0, x4 where",
                    "i %% 9 == 2, x8 where i %% 11 == 4, x3 where i %% 13 == 1 and i is odd")

# lavaan's objects (matrices, frames, named vectors, lists of them) as JSON-ready lists; NaN and
# Inf become NA; safely() records an error's message instead of stopping
finite <- function(v) { v <- as.numeric(unclass(v)); v[!is.finite(v)] <- NA; I(v) }
ser <- function(x) {
  if (is.null(x)) return(NULL)
  if (is.data.frame(x)) {
    out <- lapply(x, function(col) if (is.numeric(col)) finite(col) else col)
    if (!is.null(rownames(x))) out$`_rows` <- rownames(x)
    return(out)
  }
  if (is.matrix(x)) {
    x <- unclass(x)
    return(list(rows = if (is.null(rownames(x))) character(0) else rownames(x),
                cols = if (is.null(colnames(x))) character(0) else colnames(x),
                values = lapply(seq_len(nrow(x)), function(i) finite(x[i, ]))))
  }
  if (is.list(x)) return(lapply(x, ser))
  if (is.numeric(x) || is.logical(x)) {
    v <- if (is.numeric(x)) finite(x) else unclass(x)
    if (!is.null(names(x))) return(list(names = names(x), values = I(unname(v))))
    return(I(unname(v)))
  }
  unclass(x)
}
safely <- function(expr) tryCatch(ser(expr), error = function(e) list(error = conditionMessage(e)))
