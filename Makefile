# The two commands of the README. Both install what is missing first (scripts/setup.sh).
.PHONY: demo test setup build clean

demo: build
	node examples/forecast-co2.js

test: build
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

build: setup
	bash scripts/build.sh

clean:
	rm -rf dist pkg target test-results
