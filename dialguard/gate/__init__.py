"""The gate core both transports share: the decision service (facts, policy, durable decision),
the decision budget and outage log, the verdict and its ``gate.*`` codes, the vocabulary of
channel variables and hidden caller numbers, the keypad opt-out and the socket listener.
Nothing here speaks FastAGI or ESL."""
