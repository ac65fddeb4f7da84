# QLVB: `make run` brings the platform up with a demo province; `make test` runs every test
# against the real servers. Both install what they need (see devstack/).
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK := devstack/stack.sh
ENV := eval "$$($(STACK) env)"
VENV := .venv/bin

.PHONY: help install stack-start stack-stop stack-status migrate seed run stop test bench lint

help:
	@echo "make run | test | bench | lint | stop | stack-start | stack-stop | stack-status | migrate | seed"

install:
	@$(STACK) install

stack-start:
	@$(STACK) start

stack-stop: stop
	@$(STACK) stop

stack-status:
	@$(STACK) status
	@devstack/services.sh status

migrate: stack-start
	@$(ENV) && $(VENV)/qlvb migrate all

seed: migrate
	@$(ENV) && $(VENV)/qlvb seed-demo devstack/demo-province.json

run: seed
	@devstack/services.sh start
	@$(VENV)/python -m devstack.welcome

stop:
	@devstack/services.sh stop

test: stack-start
	@$(VENV)/pytest $(PYTEST_ARGS)

bench: seed
	@$(ENV) && $(VENV)/python -m bench

lint:
	@$(VENV)/ruff check services peers tests bench devstack
	@$(VENV)/mypy
	@$(VENV)/lint-imports
