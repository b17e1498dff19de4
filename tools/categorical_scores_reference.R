# lavaan reference factor scores of categorical models by maximum likelihood:
# lavPredict(fit, method = "ML"), the value of the factors that maximizes the likelihood of each
# row's item responses (no prior), for the models of three categorical_fit cases (their
# model_text, options and data), every fitted row. Where a row's likelihood keeps rising as a
# factor goes to plus or minus infinity (every indicator of it in its lowest or highest category)
# lavaan's optimizer stops at an arbitrary large value or gives NA; the file keeps what it gives.
# Usage: Rscript tools/categorical_scores_reference.R DATA_DIR OUT_DIR
#   (DATA_DIR: semlang/datasets; OUT_DIR: tests/reference/categorical_fit, which has the cut data)
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]; out_dir <- args[2]
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                 "reference_common.R"))

hs <- read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
hs3 <- read.csv(file.path(out_dir, "hs_cut3.csv"))
hs_mixed <- hs3
hs_mixed[paste0("x", 4:9)] <- hs[paste0("x", 4:9)]
datasets <- list(hs_cut3 = hs3, hs_binary = read.csv(file.path(out_dir, "hs_binary.csv")),
                 hs_mixed = hs_mixed)

for (name in c("hs3_wlsmv", "hs2_wlsmv", "mixed_cfa_wlsmv")) {
  cs <- fromJSON(file.path(out_dir, paste0(name, ".json")), simplifyVector = TRUE)
  fit <- do.call("sem", c(list(model = cs$model_text, data = datasets[[cs$data]]),
                          as.list(cs$options)))
  res <- list(name = paste0("scores_ml_", name), case = name,
              about = paste("lavPredict(fit, method = \"ML\") of the", name, "model, every row"),
              scores_ml = safely(lavPredict(fit, method = "ML")))
  write_case(res, res$name)
  cat(res$name, "\n")
}
