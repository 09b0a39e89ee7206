"""Study files for the tools centres already use: SPSS and Stata (`spss_stata`) and CDISC
SDTM (`sdtm`). These writers need the protocol (visits, arms) and the analysis frame (one
value per participant and visit), so they live above `data`, which may import neither."""
