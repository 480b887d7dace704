module github.com/gale-stream/gale

go 1.26
