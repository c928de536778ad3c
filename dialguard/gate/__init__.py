"""The gate core every transport shares: the decision budget and outage log, the verdict and its
``gate.*`` codes, and the vocabulary of channel variables and hidden caller numbers."""
