# lavaan reference results for exploratory factor analysis of ordered-categorical items: efa()
# with ordered = (WLSMV by default, ULSMV) and an ESEM (efa blocks in a sem() model) with ordered
# indicators and a structural part. Per case the rotated estimates (thresholds and the derived
# residual variances of the delta parameterization included) with lavaan's bordered standard
# errors, standardizedSolution()'s standard errors, the whole fitMeasures() vector per number of
# factors and lavaan's printed summary; lavaan's errors for bad input.
# Usage: Rscript tools/efa_ordered_reference.R DATA_DIR OUT_DIR   (DATA_DIR: semlang/datasets)
# The cut data are those of tools/categorical_fit_reference.R (hs_cut3: x1..x9 of
# HolzingerSwineford1939 cut at their 1/3 and 2/3 quantiles).
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
items <- paste0("x", 1:9)
cut3 <- function(x) findInterval(x, quantile(x, c(1 / 3, 2 / 3)), left.open = TRUE) + 1L
hs3 <- hs[, c("id", "sex", "ageyr", "school", items)]
hs3[items] <- lapply(hs[items], cut3)
hs3_text <- paste("HolzingerSwineford1939 x1..x9 each cut at its 1/3 and 2/3 quantiles (R type",
                  "7): findInterval(x, quantile(x, c(1/3, 2/3)), left.open = TRUE) + 1")
bfi_items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
               paste0("O", 1:5))
bfi <- read.csv(file.path(data_dir, "bfi.csv"))[, bfi_items]
bfi_text <- "bfi.csv, the 25 items A1..O5 (incomplete rows deleted listwise, lavaan's default)"

one_fit <- function(x) {
  pe <- parameterEstimates(x, standardized = TRUE, remove.nonfree = FALSE)
  std <- standardizedSolution(x)
  pe$se.std <- std$se
  cols <- intersect(c("lhs", "op", "rhs", "est", "se", "std.all", "se.std"), names(pe))
  list(estimates = pe[, cols], converged = lavInspect(x, "converged"))
}

efa_case <- function(name, data, data_text, nfactors, rotation, ...) {
  set.seed(20260101)
  seconds <- system.time(fit <- efa(data, nfactors = nfactors, rotation = rotation, ...))
  fits <- unclass(fit)[paste0("nf", nfactors)]
  fm <- fitMeasures(fit)
  fm_names_all <- if (is.matrix(fm)) rownames(fm) else names(fm)
  fm_list <- lapply(seq_along(nfactors), function(i) {
    v <- as.list(finite(if (is.matrix(fm)) fm[, i] else fm)); names(v) <- fm_names_all; v })
  res <- list(
    data = data_text, nobs = lavInspect(fits[[1]], "nobs"), variables = names(data),
    nfactors = nfactors, rotation = rotation, options = list(...),
    estimator = lavInspect(fits[[1]], "options")$estimator,
    fits = lapply(fits, one_fit), fit_measures = fm_list,
    summary = capture.output(print(summary(fit))),
    lavaan_seconds = seconds[["elapsed"]])
  write_case(res, name)
  cat(name, "\n")
}

efa_case("hs3_geomin", hs3[items], hs3_text, 3L, "geomin", ordered = TRUE)
efa_case("hs3_oblimin", hs3[items], hs3_text, 3L, "oblimin", ordered = items)
efa_case("hs3_varimax_ulsmv", hs3[items], hs3_text, 1:3, "varimax", ordered = TRUE,
         estimator = "ULSMV")
efa_case("bfi_geomin", bfi, bfi_text, 5L, "geomin", ordered = TRUE)
hs_mixed <- hs3[items]
hs_mixed[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
efa_case("mixed_geomin", hs_mixed, paste("hs_cut3's x1..x3 (ordered) with the original x4..x9",
         "(continuous)"), 3L, "geomin", ordered = c("x1", "x2", "x3"))
efa_case("hs3_none_dwls", hs3[items], hs3_text, 2L, "none", ordered = TRUE, estimator = "DWLS")

# exploratory SEMs with ordered indicators: a structural part; one block by group; the theta
# parameterization
structural <- '
  efa("b1")*f1 + efa("b1")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6
  speed =~ x7 + x8 + x9
  speed ~ f1 + f2
'
esem3 <- 'efa("efa1")*f1 + efa("efa1")*f2 + efa("efa1")*f3 =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9'
esem_case <- function(name, about, fun, model, options) {
  set.seed(20240101L)
  out <- fit_with_warnings(fun, model, hs3, options)
  fit <- out$fit
  pt <- parTable(fit)
  keep <- pt$op %in% c("=~", "~", "~~", "|")
  write_case(list(
    name = name, about = about, fun = fun, data = hs3_text, model = model, options = options,
    nobs = lavInspect(fit, "nobs"), converged = lavInspect(fit, "converged"),
    warnings = out$warnings, estimates = estimates(fit),
    se_std = standardizedSolution(fit)$se,
    fit_measures = safely(fitMeasures(fit)),
    unrotated = data.frame(lhs = pt$lhs[keep], op = pt$op[keep], rhs = pt$rhs[keep],
                           group = pt$group[keep], est = pt$est.unrotated[keep]),
    summary = capture.output(summary(fit, fit.measures = TRUE, standardized = TRUE))), name)
  cat(name, "\n")
}
esem_case("esem_hs3_structural", "the structural ESEM of esem_hs_structural on hs_cut3, WLSMV",
          "sem", structural, list(ordered = items))
esem_case("esem_hs3_theta", "one efa block of 3 factors on hs_cut3, WLSMV, theta parameterization",
          "cfa", esem3, list(ordered = items, parameterization = "theta"))
esem_case("esem_hs3_groups", "one efa block of 3 factors on hs_cut3 by school, WLSMV",
          "cfa", esem3, list(ordered = items, group = "school"))

# bad input: lavaan's messages
err <- function(expr) tryCatch({ expr; NA }, error = function(e) conditionMessage(e))
write_case(list(
  ml_estimator = err(efa(hs3[items], nfactors = 2L, ordered = TRUE, estimator = "ML")),
  unknown_ordered = err(efa(hs3[items], nfactors = 2L, ordered = c("x1", "x10")))),
  "errors")
