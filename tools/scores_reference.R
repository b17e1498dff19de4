# Factor-score and structural-after-measurement references beyond the shipped ones (lavaan 0.6.14):
#   sam_cases.json    sam() (local) on variants of the Political Democracy model (mean structure,
#                     std.lv, observed information, residual covariances or equal loadings
#                     across factors fitted with mm.list, a defined parameter, missing cells)
#                     and on the micro-macro SEM (observed y and Z in the structural part);
#                     fsr() Croon with regression scores, and with missing cells.
#   scores_cases.json lavPredict() for a MIMIC model (exogenous covariates, fixed.x), with and
#                     without a mean structure, for new data with missing values under FIML, and
#                     for the micro-macro SEM by FIML with cells removed (first 20 rows).
# Usage: Rscript tools/scores_reference.R DATA_DIR OUT_DIR
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
read <- function(name) read.csv(file.path(data_dir, name))

rows <- function(fit) {
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op %in% c("=~", "~", "~~", "~1", ":="), ]
  lapply(seq_len(nrow(pe)), function(i) list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i],
                                             est = pe$est[i], se = pe$se[i]))
}

poldem <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
"
poldem_residuals <- paste0(poldem, "
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
")
poldem_equal <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
"
poldem_defined <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ ind60 + b*dem60
  ab := a*b
"
micro <- paste0("  xi =~ ", paste0("1*x", 1:10, collapse = " + "), "\n",
                paste0("  x", 1:10, " ~~ v*x", 1:10, collapse = "\n"), "\n  y ~ xi + Z\n  xi ~~ Z\n")

pd <- read("PoliticalDemocracy.csv")
mm <- read("micro_macro_wide.csv")
sam_case <- function(name, about, data, data_name, model, options = list(), mm.list = NULL, fun = "sam",
                     missing_cells = NULL) {
  fit <- if (fun == "sam") {
    do.call(sam, c(list(model = model, data = data, mm.list = mm.list), options))
  } else {
    do.call(lavaan:::fsr, c(list(model = model, data = data), options))
  }
  list(name = name, about = about, fun = fun, data = data_name, model = model,
       options = if (length(options)) options else setNames(list(), character(0)),
       mm_list = mm.list, missing_cells = missing_cells, estimates = rows(fit))
}
# cells of the Political Democracy data set missing (rows 1-based)
pd_cells <- list(list(rows = 1:5, vars = "x1"), list(rows = 6:8, vars = c("y1", "y5")),
                 list(rows = 9, vars = c("x2", "y2", "y6")))
pd_missing <- pd
for (cell in pd_cells) pd_missing[cell$rows, cell$vars] <- NA
sam_cases <- list(
  sam_case("poldem_meanstructure", "sam() with meanstructure = TRUE", pd, "PoliticalDemocracy.csv",
           poldem, list(meanstructure = TRUE)),
  sam_case("poldem_stdlv", "sam() with std.lv = TRUE (the latent covariance matrix becomes a correlation matrix)",
           pd, "PoliticalDemocracy.csv", poldem, list(std.lv = TRUE)),
  sam_case("poldem_residuals", "sam() with residual covariances across dem60 and dem65, fitted in one block (mm.list)",
           pd, "PoliticalDemocracy.csv", poldem_residuals, mm.list = list("ind60", c("dem60", "dem65"))),
  sam_case("poldem_observed", "sam() with information = \"observed\" (blocks and full model)",
           pd, "PoliticalDemocracy.csv", poldem, list(meanstructure = TRUE, information = "observed")),
  sam_case("poldem_equal_loadings", "sam() with loadings equal across dem60 and dem65 (labels), fitted in one block (mm.list)",
           pd, "PoliticalDemocracy.csv", poldem_equal, mm.list = list("ind60", c("dem60", "dem65"))),
  sam_case("poldem_defined", "sam() with a defined indirect effect", pd, "PoliticalDemocracy.csv", poldem_defined),
  sam_case("micro_macro", "sam() on the micro-macro SEM: observed y and Z in the structural part",
           mm, "micro_macro_wide.csv", micro),
  sam_case("poldem_croon_regression", "fsr() Croon with regression factor scores", pd,
           "PoliticalDemocracy.csv", poldem, list(fs.method = "regression"), fun = "fsr"),
  sam_case("poldem_croon_missing", "fsr() Croon with cells missing (blocks by FIML, incomplete rows scored)",
           pd_missing, "PoliticalDemocracy.csv", poldem, fun = "fsr", missing_cells = pd_cells),
  sam_case("poldem_sam_missing", "sam() with cells missing (complete rows)",
           pd_missing, "PoliticalDemocracy.csv", poldem, missing_cells = pd_cells)
)
write_json(list(lavaan_version = as.character(packageVersion("lavaan")), cases = sam_cases),
           file.path(out_dir, "sam_cases.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")

# ---- lavPredict ------------------------------------------------------------------------------
hs <- read("HolzingerSwineford1939.csv")
hs <- hs[!is.na(hs$grade), ]
mimic <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  visual + textual ~ ageyr + grade
"
table20 <- function(s) as.data.frame(s[1:20, , drop = FALSE])
score_case <- function(name, about, fit, data_name, model, options) {
  list(name = name, about = about, data = data_name, model = model, options = options,
       prep = "rows with a missing grade removed",
       regression = table20(lavPredict(fit)), bartlett = table20(lavPredict(fit, method = "Bartlett")))
}
bfi <- read("bfi.csv")
bfi5 <- "
  agree =~ A1 + A2 + A3 + A4 + A5
  consc =~ C1 + C2 + C3 + C4 + C5
  extra =~ E1 + E2 + E3 + E4 + E5
  neuro =~ N1 + N2 + N3 + N4 + N5
  open  =~ O1 + O2 + O3 + O4 + O5
"
fiml <- cfa(bfi5, data = bfi, missing = "ml")
new <- bfi[1:12, ]
new[1, c("A1", "A2", "A3", "A4", "A5")] <- NA   # no indicator of agree
new[2, c("C1", "E2", "N3", "O4")] <- NA
new[3, c("A1", "C1", "C2")] <- NA
new[4, c("A2", "A3", "E1", "E2", "E3", "E4")] <- NA
# the micro-macro SEM by FIML on the balanced data with cells removed (observed y and Z are
# dummies in lavaan's LISREL form; row 19 observes y and Z only)
mm_missing <- mm
mm_missing[1:10, c("x1", "x2", "x3")] <- NA
mm_missing[11:15, "y"] <- NA
mm_missing[16:18, "Z"] <- NA
mm_missing[19, paste0("x", 1:10)] <- NA
mm_missing[20, c("y", "x10")] <- NA
mm_fit <- sem(micro, data = mm_missing, missing = "ml")
scores_cases <- list(
  score_case("mimic_hs", "MIMIC: two factors on ageyr and grade (fixed.x)", sem(mimic, data = hs),
             "HolzingerSwineford1939.csv", mimic, setNames(list(), character(0))),
  score_case("mimic_hs_meanstructure", "the same MIMIC with meanstructure = TRUE",
             sem(mimic, data = hs, meanstructure = TRUE), "HolzingerSwineford1939.csv", mimic,
             list(meanstructure = TRUE)),
  list(name = "bfi_fiml_newdata", about = "bfi_5factor_fiml scored on new data: rows 1-12 of bfi with cells set missing",
       data = "bfi.csv", model = bfi5, options = list(missing = "fiml"),
       missing_cells = list(list(row = 1, vars = c("A1", "A2", "A3", "A4", "A5")),
                            list(row = 2, vars = c("C1", "E2", "N3", "O4")),
                            list(row = 3, vars = c("A1", "C1", "C2")),
                            list(row = 4, vars = c("A2", "A3", "E1", "E2", "E3", "E4"))),
       regression = as.data.frame(lavPredict(fiml, newdata = new)),
       bartlett = as.data.frame(lavPredict(fiml, newdata = new, method = "Bartlett"))),
  list(name = "micro_macro_fiml_cells", about = "micro-macro SEM by FIML on micro_macro_wide with cells removed",
       data = "micro_macro_wide.csv", model = micro, options = list(missing = "fiml"),
       missing_cells = list(list(rows = 1:10, vars = c("x1", "x2", "x3")), list(rows = 11:15, vars = "y"),
                            list(rows = 16:18, vars = "Z"), list(rows = 19, vars = paste0("x", 1:10)),
                            list(rows = 20, vars = c("y", "x10"))),
       regression = table20(lavPredict(mm_fit)),
       bartlett = table20(lavPredict(mm_fit, method = "Bartlett")))
)
write_json(list(lavaan_version = as.character(packageVersion("lavaan")), cases = scores_cases),
           file.path(out_dir, "scores_cases.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
