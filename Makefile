.PHONY: fuzz

# make fuzz [DURATION=5m]: every fuzz target, one after another.
DURATION ?= 5m
fuzz:
	bash scripts/fuzz.sh $(DURATION)
