# Cortex build. Every go command here shares the same tags and CGO_CFLAGS: a mismatch
# makes go rebuild SQLite's C amalgamation (~45 s) each time it flips.
GO        ?= go
TAGS      := sqlite_fts5
export CGO_ENABLED := 1
export CGO_CFLAGS  := -O2 -g
export GOFLAGS     := -tags=$(TAGS) -buildvcs=false
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Built-in plugins: every plugins/<name> folder with a main.go becomes
# plugins/dist/<name>.wasm, which the binary embeds.
PLUGIN_NAMES := $(notdir $(patsubst %/main.go,%,$(wildcard plugins/*/main.go)))
PLUGIN_WASM  := $(addprefix plugins/dist/,$(addsuffix .wasm,$(PLUGIN_NAMES)))

.PHONY: build run test bench lint plugins clean

build: plugins
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/cortex ./cmd/cortex

run: build
	./bin/cortex serve

plugins: $(PLUGIN_WASM)

plugins/dist/%.wasm: $(shell find plugins sdk -name '*.go' 2>/dev/null) go.mod
	cd plugins/$* && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		$(GO) build -buildmode=c-shared -trimpath -o ../dist/$*.wasm .

test: plugins
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./sdk ./sdk/abi ./sdk/textutil ./plugins/...
	$(GO) test -count=1 ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./bin/cortex bench

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin $(PLUGIN_WASM)
