"""Screening a list (passenger manifest, consignee list, company register) against what a user may see in an
operation: `reader` reads and checks the file, `matching` runs Splink between the list and the reference
records, `service.screen` is the one door (policy, extract, audit). `encoded` is the privacy-preserving variant:
`encode_list` at the sender, `screen_encoded` (its door) and `match_encoded` at the hub."""
