"""The consistency checks: one module per family, each check one ``Check`` object
(``filters.base``) registered in ``filters.checks``; ``filters.judge.Judge`` runs them and keeps
every reason, ``filters.confidence`` scores what passes."""
