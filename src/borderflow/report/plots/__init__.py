"""The charts, by what they draw for whom; matplotlib loads only when one is drawn.

:mod:`.common` holds the figure, PNG and axis helpers every chart shares; :mod:`.data` the
numbers that are drawn (so tests check numbers rather than pixels). A run folder's charts are
in :mod:`.run` (``stranded.png``, ``flows.png``) and :mod:`.network` (``map.png``); variants
side by side in :mod:`.compare`; ensembles' fans, effects and Sobol' indices in
:mod:`.ensemble`; calibration's and backtests' in :mod:`.calibration`. No chart imports the
service whose results it draws: the services compute the data and pass it in.
"""
