# lavaan references for the sample statistics of ordered-categorical data: thresholds, polychoric,
# polyserial and Pearson correlations (lavCor), and lavaan's WLS.obs, its asymptotic covariance
# Γ (lavInspect(fit, "gamma"), NACOV) and the DWLS weight (diagonal of lavInspect(fit, "wls.v")),
# from lavCor(..., estimator = "WLSMV", output = "fit") or, conditional on a covariate, from a
# WLSMV model fit. The cut data are written as CSV next to the JSON files, so the tests read
# exactly the categories lavaan saw.
# Usage: Rscript tools/categorical_stats_reference.R DATA_DIR OUT_DIR
#        (DATA_DIR: semlang/datasets, OUT_DIR: tests/reference/categorical)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
bfi <- read.csv(file.path(data_dir, "bfi.csv"))
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))
xs <- paste0("x", 1:9)

# x cut at its 1/3 and 2/3 quantiles (R's default type 7) into categories 1, 2, 3
cut3 <- function(x) cut(x, breaks = c(-Inf, quantile(x, c(1 / 3, 2 / 3)), Inf), labels = FALSE)
# x cut at its median into 0 / 1
cut2 <- function(x) as.integer(x > median(x))
hs_cut3 <- data.frame(id = hs$id, school = hs$school, ageyr = hs$ageyr,
                      sapply(hs[, xs], cut3))
hs_binary <- data.frame(id = hs$id, school = hs$school, ageyr = hs$ageyr, sex = hs$sex,
                        sapply(hs[, xs[1:6]], cut2))
hs_mixed <- data.frame(id = hs$id, ageyr = hs$ageyr, sapply(hs[, xs[1:3]], cut3), hs[, xs[4:6]])
hs_cut3_holes <- punch_holes(hs_cut3)
hs_mixed_holes <- punch_holes(hs_mixed)[, names(hs_mixed)]
write.csv(hs_cut3, file.path(out_dir, "hs_cut3.csv"), row.names = FALSE)
write.csv(hs_binary, file.path(out_dir, "hs_binary.csv"), row.names = FALSE)
write.csv(hs_mixed, file.path(out_dir, "hs_mixed.csv"), row.names = FALSE)
write.csv(hs_cut3_holes, file.path(out_dir, "hs_cut3_holes.csv"), row.names = FALSE, na = "")
write.csv(hs_mixed_holes, file.path(out_dir, "hs_mixed_holes.csv"), row.names = FALSE, na = "")

# one group's statistics of a lavaan fit; Γ in full, or (big) its diagonal and first rows
group_stats <- function(fit, full_gamma = TRUE, g = 1L) {
  several <- lavInspect(fit, "ngroups") > 1L
  pick <- function(x) if (several) x[[g]] else x
  ss <- pick(lavInspect(fit, "sampstat"))
  obs <- pick(lavInspect(fit, "wls.obs"))
  gam <- pick(lavInspect(fit, "gamma"))
  wv <- pick(lavInspect(fit, "wls.v"))
  out <- list(sampstat = ser(ss), wls_obs = ser(obs), gamma_diag = ser(diag(gam)),
              wls_v_diag = ser(diag(wv)), nobs = lavInspect(fit, "nobs")[g])
  if (full_gamma) {
    out$gamma <- ser(unclass(gam))
  } else {
    rows <- c(1:3, nrow(gam) - 1, nrow(gam))
    out$gamma_rows <- list(index = rows, values = lapply(rows, function(i) finite(gam[i, ])))
  }
  out
}

lavcor_case <- function(name, data, ordered, group = NULL, missing = "listwise",
                        full_gamma = TRUE, text = "") {
  vars <- setdiff(names(data), c("id", "school", "ageyr", "sex"))
  cols <- c(vars, if (!is.null(group)) group)
  t0 <- proc.time()
  warns <- character(0)
  r <- withCallingHandlers(
    lavCor(data[, cols], ordered = ordered, group = group, missing = missing, output = "cor"),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  th <- lavCor(data[, cols], ordered = ordered, group = group, missing = missing, output = "th")
  fit <- suppressWarnings(lavCor(data[, cols], ordered = ordered, group = group, missing = missing,
                                 estimator = "WLSMV", se = "none", test = "none", output = "fit"))
  ngroups <- lavInspect(fit, "ngroups")
  res <- list(name = name, text = text, variables = vars, ordered = ordered,
              group = if (is.null(group)) NULL else group, missing = missing,
              group_labels = lavInspect(fit, "group.label"),
              cor = ser(r), th = ser(th), warnings = warns,
              groups = lapply(seq_len(ngroups), function(g) group_stats(fit, full_gamma, g)),
              zero_cell_tables = lapply(seq_len(ngroups), function(g) {
                z <- fit@SampleStats@zero.cell.tables[[g]]
                if (length(z)) lapply(seq_len(nrow(z)), function(i) unname(z[i, ])) else list()
              }))
  write_case(res, name)
}

lavcor_case("bfi_items", bfi[, items], ordered = items, full_gamma = FALSE,
            text = "the 25 bfi items, all ordered, listwise")
lavcor_case("hs_cut3", hs_cut3, ordered = xs, text = "x1..x9 cut into 3 (hs_cut3.csv)")
lavcor_case("hs_binary", hs_binary, ordered = xs[1:6],
            text = "x1..x6 cut at the median (hs_binary.csv): tetrachoric")
lavcor_case("hs_mixed", hs_mixed, ordered = xs[1:3],
            text = "x1..x3 cut into 3 and x4..x6 continuous (hs_mixed.csv)")
lavcor_case("hs_cut3_groups", hs_cut3, ordered = xs, group = "school",
            text = "hs_cut3 by school")
lavcor_case("hs_cut3_pairwise", hs_cut3_holes, ordered = xs, missing = "pairwise",
            text = "hs_cut3 with holes (hs_cut3_holes.csv), missing = pairwise")
lavcor_case("hs_mixed_pairwise", hs_mixed_holes, ordered = xs[1:3], missing = "pairwise",
            text = "hs_mixed with holes (hs_mixed_holes.csv: in x1, x3, x4), missing = pairwise")

# conditional on a covariate: a WLSMV model with ageyr as exogenous covariate (fixed.x); the
# statistics are the residual thresholds, slopes, residual variances and correlations
mixed_model <- "
  f1 =~ x1 + x2 + x3
  f2 =~ x4 + x5 + x6
  f1 + f2 ~ ageyr
"
fit <- sem(mixed_model, data = hs_mixed, ordered = xs[1:3], estimator = "WLSMV")
res <- list(name = "hs_mixed_exo", model = mixed_model, ordered = xs[1:3], exogenous = "ageyr",
            variables = lavNames(fit, "ov.nox"),
            text = "hs_mixed.csv; x1..x3 ordered, x4..x6 continuous, conditional on ageyr",
            groups = list(group_stats(fit, TRUE)))
write_case(res, "hs_mixed_exo")

# binary items conditional on two covariates, in two groups
binary_model <- "
  f =~ x1 + x2 + x3 + x4 + x5 + x6
  f ~ ageyr + sex
"
fit <- sem(binary_model, data = hs_binary, ordered = xs[1:6], estimator = "WLSMV", group = "school")
res <- list(name = "hs_binary_exo", model = binary_model, ordered = xs[1:6],
            exogenous = c("ageyr", "sex"), group = "school", variables = lavNames(fit, "ov.nox"),
            text = "hs_binary.csv by school; x1..x6 binary, conditional on ageyr and sex",
            group_labels = lavInspect(fit, "group.label"),
            groups = lapply(1:2, function(g) group_stats(fit, TRUE, g)))
write_case(res, "hs_binary_exo")

# empty cells: a 2 x 2 table with one empty cell, and a 3 x 3 table with empty cells
zero <- data.frame(a = rep(c(1, 1, 2, 2), c(30, 12, 0, 20)), b = rep(c(1, 2, 1, 2), c(30, 12, 0, 20)),
                   c = rep(c(1, 2, 3), c(20, 22, 20)), d = rep(c(3, 1, 2), c(20, 22, 20)))
zero$c[1:3] <- 3
write.csv(zero, file.path(out_dir, "zero_cells.csv"), row.names = FALSE)
lavcor_case("zero_cells", zero, ordered = c("a", "b", "c", "d"),
            text = "zero_cells.csv: tables with empty cells")
