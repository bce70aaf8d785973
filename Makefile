# One command runs the tests, one runs the service (see README.md).
.PHONY: test run build web lint bench

test:
	./.ci/test

build: web
	go build -o bin/backupd ./cmd/backupd

web:
	cd web && npm ci --no-audit --no-fund && npm run build

run: build
	./bin/backupd serve

lint:
	go vet ./...
	./.ci/importcheck

bench:
	./.ci/bench
