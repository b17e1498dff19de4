# lavaan reference results for exploratory factor analysis (efa()) and its rotations: per case the
# rotated estimates with standard errors (parameterEstimates, standardizedSolution), the fit
# measures of each number of factors, the eigenvalues and lavaan's printed summary; psych::fa and
# stats::factanal loadings where they rotate the same solution; lavaan's errors for bad input.
# Usage: Rscript tools/efa_reference.R DATA_DIR OUT_DIR [rotations|delta]   (DATA_DIR:
# semlang/datasets). With "rotations" only rotations.json is written: lavaan's rotation
# (lav_matrix_rotate) of one unrotated loading matrix under every criterion and option; with
# "delta" only the cases with rotation.se = "delta" (standard errors of the rotated parameters by
# the delta method through the rotation instead of the bordered information).
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]; only_rotations <- identical(args[3], "rotations")
only_delta <- identical(args[3], "delta")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))
suppressMessages({library(psych); library(GPArotation)})
timing_runs <- 5L

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))[, paste0("x", 1:9)]
bfi_items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
               paste0("O", 1:5))
bfi <- na.omit(read.csv(file.path(data_dir, "bfi.csv"))[, bfi_items])

# the keyed structure of the bfi items: 0.6 on the item's own trait (column order A C E N O)
bfi_target <- matrix(0, 25, 5)
for (k in 1:5) bfi_target[(k - 1) * 5 + 1:5, k] <- 0.6
bfi_pst <- bfi_target; bfi_pst[bfi_pst > 0] <- NA
bfi_mask <- matrix(1, 25, 5); bfi_mask[is.na(bfi_pst)] <- 0

# ---- rotations of one matrix: the unrotated ML loadings of the HS data (factanal, 3 factors)
A <- unclass(factanal(hs, factors = 3, rotation = "none")$loadings)
hs_target <- matrix(0, 9, 3); hs_target[1:3, 1] <- hs_target[4:6, 2] <- hs_target[7:9, 3] <- 0.7
hs_pst <- hs_target; hs_pst[hs_pst > 0] <- NA
hs_mask <- matrix(1, 9, 3); hs_mask[is.na(hs_pst)] <- 0
rotation_cases <- list(
  list("geomin", FALSE), list("geomin_orthogonal", TRUE, method = "geomin"),
  list("geomin_kaiser", FALSE, method = "geomin", row.weights = "kaiser"),
  list("geomin_cm", FALSE, method = "geomin", row.weights = "cureton-mulaik"),
  list("geomin_pairwise", FALSE, method = "geomin", algorithm = "pairwise"),
  list("oblimin", FALSE), list("oblimin_gamma", FALSE, method = "oblimin", oblimin.gamma = 0.5),
  list("quartimin", FALSE), list("varimax", TRUE), list("varimax_pairwise", TRUE,
  method = "varimax", algorithm = "pairwise"), list("quartimax", TRUE),
  list("orthomax", TRUE, orthomax.gamma = 0.5), list("promax", FALSE), list("entropy", TRUE),
  list("bentler", FALSE), list("cf-quartimax", FALSE), list("cf-varimax", FALSE),
  list("cf-equamax", FALSE), list("cf-parsimax", FALSE), list("cf-facparsim", FALSE),
  list("target", FALSE), list("pst", FALSE), list("biquartimin", FALSE),
  list("bigeomin", FALSE), list("infomax", FALSE), list("simplimax", FALSE),
  list("mccammon", TRUE), list("tandem1", TRUE), list("tandem2", TRUE))
rotations <- list(A = ser(A), target = ser(hs_target), target_pst = ser(hs_pst), cases = list())
for (rc in rotation_cases) {
  name <- rc[[1]]; orth <- rc[[2]]
  method <- if (is.null(rc$method)) name else rc$method
  margs <- list(geomin.epsilon = 0.001, orthomax.gamma = 1, cf.gamma = 0, oblimin.gamma = 0,
                promax.kappa = 4, target = hs_target, target.mask = hs_mask)
  for (k in c("oblimin.gamma", "orthomax.gamma")) if (!is.null(rc[[k]])) margs[[k]] <- rc[[k]]
  set.seed(20260101)
  res <- lavaan:::lav_matrix_rotate(A, orthogonal = orth, method = method, method.args = margs,
    rstarts = 30L, row.weights = if (is.null(rc$row.weights)) "default" else rc$row.weights,
    algorithm = if (is.null(rc$algorithm)) "gpa" else rc$algorithm, warn = FALSE)
  rotations$cases[[name]] <- list(method = method, orthogonal = orth,
    row_weights = if (is.null(rc$row.weights)) "default" else rc$row.weights,
    algorithm = if (is.null(rc$algorithm)) "gpa" else rc$algorithm,
    oblimin_gamma = margs$oblimin.gamma, orthomax_gamma = margs$orthomax.gamma,
    loadings = ser(res$LAMBDA), phi = ser(res$PHI), criterion = finite(res$method.value))
}
if (!only_delta) write_case(rotations, "rotations")
if (only_rotations) quit(save = "no")

one_fit <- function(x) {
  pe <- parameterEstimates(x, standardized = TRUE, remove.nonfree = FALSE)
  std <- standardizedSolution(x)
  pe$se.std <- std$se
  cols <- intersect(c("lhs", "op", "rhs", "est", "se", "std.all", "se.std"), names(pe))
  list(estimates = pe[, cols], converged = lavInspect(x, "converged"))
}

efa_case <- function(name, data, data_text, nfactors, rotation, rotation.args = list(), ...) {
  call <- function() efa(data, nfactors = nfactors, rotation = rotation,
                         rotation.args = rotation.args, ...)
  set.seed(20260101)
  fit <- call()
  fits <- unclass(fit)[paste0("nf", nfactors)]
  fm <- fitMeasures(fit)
  fm_list <- lapply(seq_along(nfactors), function(i) as.list(finite(if (is.matrix(fm)) fm[, i] else fm)))
  fm_names_all <- if (is.matrix(fm)) rownames(fm) else names(fm)
  for (i in seq_along(fm_list)) names(fm_list[[i]]) <- fm_names_all
  times <- sapply(seq_len(timing_runs), function(i) system.time(call())[["elapsed"]])
  res <- list(
    data = data_text, nobs = nrow(data), variables = names(data), nfactors = nfactors,
    rotation = rotation, rotation_args = rotation.args, options = list(...),
    fits = lapply(fits, one_fit), fit_measures = fm_list,
    eigenvalues = finite(eigen(cor(data), only.values = TRUE)$values),
    summary = capture.output(print(summary(fit))),
    lavaan_seconds_median = median(times))
  write_case(res, name)
}

hs_text <- "HolzingerSwineford1939.csv, columns x1..x9"
bfi_text <- "bfi.csv, the 25 items A1..O5, rows with a missing item dropped (listwise)"
efa_case("hs_geomin_delta", hs, hs_text, 3L, "geomin", rotation.se = "delta")
efa_case("hs_oblimin_delta", hs, hs_text, 3L, "oblimin", rotation.se = "delta")
if (only_delta) quit(save = "no")
efa_case("hs_geomin", hs, hs_text, 3L, "geomin")
efa_case("hs_oblimin", hs, hs_text, 3L, "oblimin")
efa_case("hs_quartimin", hs, hs_text, 3L, "quartimin")
efa_case("hs_varimax", hs, hs_text, 3L, "varimax")
efa_case("hs_promax", hs, hs_text, 3L, "promax")
efa_case("hs_geomin_orthogonal", hs, hs_text, 3L, "geomin", list(orthogonal = TRUE))
efa_case("hs_geomin_uls", hs, hs_text, 3L, "geomin", estimator = "ULS")
efa_case("hs_nf1to3", hs, hs_text, 1:3, "geomin")
efa_case("bfi_geomin", bfi, bfi_text, 5L, "geomin")
efa_case("bfi_varimax", bfi, bfi_text, 5L, "varimax")
efa_case("bfi_promax", bfi, bfi_text, 5L, "promax")
efa_case("bfi_oblimin", bfi, bfi_text, 5L, "oblimin")
efa_case("bfi_quartimin", bfi, bfi_text, 5L, "quartimin")
efa_case("bfi_target", bfi, bfi_text, 5L, "target", list(target = bfi_target))
efa_case("bfi_pst", bfi, bfi_text, 5L, "pst", list(target = bfi_pst, target.mask = bfi_mask))
efa_case("bfi_nf1to3", bfi, bfi_text, 1:3, "geomin")

# psych::fa (ML) and stats::factanal on the same data: standardized loadings, factors unsorted
others <- list()
for (case in list(list("hs", hs, 3L), list("bfi", bfi, 5L))) {
  nm <- case[[1]]; d <- case[[2]]; k <- case[[3]]
  for (rot in c("varimax", "promax")) {
    fa_fit <- suppressWarnings(psych::fa(d, nfactors = k, rotate = rot, fm = "ml"))
    fa_loadings <- unclass(fa_fit$loadings)
    st <- factanal(d, factors = k, rotation = rot)
    others[[paste(nm, rot, sep = "_")]] <- list(
      psych_fa = ser(fa_loadings), psych_phi = ser(fa_fit$Phi),
      factanal = ser(unclass(st$loadings)), uniquenesses = finite(st$uniquenesses))
  }
}
write_case(others, "other_packages")

# bad input: lavaan's messages
err <- function(expr) tryCatch({ expr; NA }, error = function(e) conditionMessage(e))
write_case(list(
  too_many_factors = err(efa(hs, nfactors = 6L)),
  unknown_rotation = err(efa(hs, nfactors = 3L, rotation = "geomni")),
  target_wrong_shape = err(efa(hs, nfactors = 3L, rotation = "target",
                               rotation.args = list(target = matrix(0, 9, 2))))),
  "errors")
