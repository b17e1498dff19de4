# Prints lavaan's median seconds of modindices() on one fitted reference case, timed inside one R
# process (R start-up and the fit itself excluded). On the 100-indicator CFA one call takes
# minutes: ask for one repetition there.
# Usage: Rscript lavaan_modindices_seconds.R CASE.json DATA_DIR [REPS]
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
case <- fromJSON(args[1], simplifyVector = TRUE); reps <- if (length(args) > 2) as.integer(args[3]) else 5L
data <- read.csv(file.path(args[2], case$data))
opts <- if (length(case$options)) as.list(case$options) else list()
fit <- do.call(case$fun, c(list(model = case$model, data = data), opts))
if (reps > 1) invisible(modindices(fit))  # warm-up, unless one (long) call is asked for
t <- sapply(seq_len(reps), function(i) system.time(modindices(fit))[["elapsed"]])
cat(sprintf("%s lavaan_seconds_median %.4f reps %d\n", case$name, median(t), reps))
