"""The address clerk's pages: the bureau's standard-address register kept clean."""
