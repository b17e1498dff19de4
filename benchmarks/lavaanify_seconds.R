# Prints lavaan's seconds for lavaanify() of one model file with sem()'s defaults (auto = TRUE),
# timed inside one R process (R start-up excluded), with the table's rows and free parameters.
# Usage: Rscript lavaanify_seconds.R MODEL_FILE [REPS]
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
reps <- if (length(args) > 1) as.integer(args[2]) else 1L
t <- sapply(seq_len(reps), function(i) system.time(lavaanify(model, auto = TRUE))[["elapsed"]])
partable <- lavaanify(model, auto = TRUE)
cat(sprintf("lavaanify_seconds_median %.4f rows %d free %d\n", median(t), nrow(partable),
            max(partable$free)))
