# lavaan timed on request, in one long-lived R process, so that a Python benchmark can alternate
# lavaan's fits with its own within one run (R start-up and lavaan's loading paid once).
# Usage: Rscript lavaan_server.R DATA_DIR; then one request per line on stdin:
#   CASE.json<TAB>REPS[<TAB>results]
# Each request fits the reference case REPS times (after one untimed fit the first time the case
# is asked for); with "results" each fit is followed by parameterEstimates() and fitMeasures(),
# the work semlang's side does with estimates() and fit_measures(). Answer, one line per request:
#   seconds MEDIAN MIN   (per fit, wall clock)      or      error MESSAGE
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]
clock <- if (requireNamespace("bench", quietly = TRUE)) {
  function() as.numeric(bench::hires_time())
} else {
  function() proc.time()[["elapsed"]]
}
cases <- new.env()

case_call <- function(path) {
  if (!exists(path, envir = cases, inherits = FALSE)) {
    case <- fromJSON(path, simplifyVector = TRUE)
    data <- read.csv(file.path(data_dir, case$data))
    opts <- if (length(case$options)) as.list(case$options) else list()
    assign(path, list(fun = case$fun, args = c(list(model = case$model, data = data), opts),
                      warm = FALSE), envir = cases)
  }
  get(path, envir = cases, inherits = FALSE)
}

one_fit <- function(call, with_results) {
  fit <- do.call(call$fun, call$args)
  # lavaan refuses fitMeasures() for test = "none"; its attempt is timed as it is
  if (with_results) { parameterEstimates(fit); try(fitMeasures(fit), silent = TRUE) }
  invisible(fit)
}

answer <- function(fields) {
  call <- case_call(fields[1])
  reps <- as.integer(fields[2])
  with_results <- length(fields) > 2 && fields[3] == "results"
  if (!call$warm) {
    suppressWarnings(one_fit(call, with_results))
    call$warm <- TRUE
    assign(fields[1], call, envir = cases)
  }
  times <- numeric(reps)
  for (i in seq_len(reps)) {
    start <- clock()
    suppressWarnings(one_fit(call, with_results))
    times[i] <- clock() - start
  }
  sprintf("seconds %.6f %.6f", median(times), min(times))
}

input <- file("stdin", open = "r")
repeat {
  line <- readLines(input, n = 1)
  if (length(line) == 0 || line == "quit") break
  out <- tryCatch(answer(strsplit(line, "\t", fixed = TRUE)[[1]]),
                  error = function(e) paste("error", gsub("[\r\n]+", " ", conditionMessage(e))))
  cat(out, "\n", sep = "")
  flush(stdout())
}
