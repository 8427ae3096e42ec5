# Reference computation with R's survey package, used by the cross-check tests and the
# benchmark.  Usage: Rscript reference.R SPEC.json OUT.json
# SPEC: one job, or {"jobs": [job, ...]}; a job has: data, y, weight, strata|null, psu|null, nest, lonely_psu, rake {var: margins.csv},
#       bounds [lo, hi]|null, epsilon, by [[cols...], ...], deff ("TRUE" | "replace"),
#       logit (bool: national svyciprop), logit_by (bool: also per domain)
suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
run_job <- function(spec) {
  options(survey.lonely.psu = if (is.null(spec$lonely_psu)) "fail" else spec$lonely_psu)
  t_start <- proc.time()[["elapsed"]]
  df <- read.csv(spec$data)
  margin_list <- list()
  for (v in names(spec$rake)) {
    m <- read.csv(spec$rake[[v]])
    names(m) <- c(v, "Freq")
    lev <- sort(unique(m[[v]]))
    df[[v]] <- factor(df[[v]], levels = lev)
    m[[v]] <- factor(m[[v]], levels = lev)
    margin_list[[v]] <- m
  }
  ids <- if (is.null(spec$psu)) ~1 else as.formula(paste0("~", spec$psu))
  strata <- if (is.null(spec$strata)) NULL else as.formula(paste0("~", spec$strata))
  des <- svydesign(ids = ids, strata = strata, weights = as.formula(paste0("~", spec$weight)),
                   data = df, nest = isTRUE(spec$nest))
  raking <- NULL
  if (length(margin_list)) {
    formulas <- lapply(names(margin_list), function(v) as.formula(paste0("~", v)))
    bounds <- if (is.null(spec$bounds)) c(-Inf, Inf) else unlist(spec$bounds)
    eps <- if (is.null(spec$epsilon)) 1e-7 else spec$epsilon
    des <- calibrate(des, formula = formulas, population = unname(margin_list),
                     calfun = "raking", bounds = bounds, epsilon = eps, maxit = 100)
    g <- weights(des) / df[[spec$weight]]
    raking <- list(g_min = min(g), g_max = max(g), weights_head = head(weights(des), 20))
  }
  deff_arg <- if (identical(spec$deff, "replace")) "replace" else TRUE
  yf <- as.formula(paste0("~", spec$y))
  rows <- list()
  nat <- svymean(yf, des, deff = deff_arg)
  ci <- confint(nat)
  row <- list(by = "national", domain = list(), estimate = unname(coef(nat)[1]),
              se = unname(SE(nat)[1]), ci_low = ci[1, 1], ci_high = ci[1, 2],
              deff = unname(deff(nat)[1]), df = degf(des))
  if (isTRUE(spec$logit)) {
    cp <- svyciprop(yf, des, method = "logit")
    row$logit_ci_low <- unname(attr(cp, "ci")[1])
    row$logit_ci_high <- unname(attr(cp, "ci")[2])
  }
  rows[[1]] <- row
  for (by in spec$by) {
    by <- unlist(by)
    byf <- as.formula(paste0("~", paste(by, collapse = "+")))
    r <- svyby(yf, byf, des, svymean, deff = deff_arg, vartype = c("se", "ci"))
    est <- coef(r); se <- SE(r); cis <- confint(r)
    de <- r[[grep("^DEff", names(r))[1]]]
    if (isTRUE(spec$logit_by)) {
      # per domain, so that a domain where the glm cannot be fitted (p = 0 or 1) gives NA
      key_data <- do.call(paste, c(lapply(by, function(b) df[[b]]), sep = "\r"))
      lci <- t(sapply(seq_len(nrow(r)), function(i) {
        key_i <- do.call(paste, c(lapply(by, function(b) as.character(r[[b]][i])), sep = "\r"))
        tryCatch(
          suppressWarnings(as.numeric(attr(
            svyciprop(yf, des[key_data == key_i, ], method = "logit"), "ci"))),
          error = function(e) c(NA_real_, NA_real_))
      }))
    }
    for (i in seq_len(nrow(r))) {
      dom <- lapply(by, function(b) {
        v <- r[[b]][i]
        if (is.factor(v)) as.character(v) else v
      })
      names(dom) <- by
      row <- list(by = paste(by, collapse = "+"), domain = dom, estimate = unname(est[i]),
                  se = unname(se[i]), ci_low = cis[i, 1], ci_high = cis[i, 2],
                  deff = unname(de[i]))
      if (isTRUE(spec$logit_by)) {
        row$logit_ci_low <- unname(lci[i, 1])
        row$logit_ci_high <- unname(lci[i, 2])
      }
      rows[[length(rows) + 1]] <- row
    }
  }
  elapsed <- proc.time()[["elapsed"]] - t_start
  list(estimates = rows, raking = raking, elapsed = elapsed)
}

args <- commandArgs(trailingOnly = TRUE)
spec <- fromJSON(args[1], simplifyVector = FALSE)
out <- if (!is.null(spec$jobs)) list(jobs = lapply(spec$jobs, run_job)) else run_job(spec)
write_json(out, args[2], auto_unbox = TRUE, digits = NA, null = "null", na = "null")
