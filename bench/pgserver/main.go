// Command pgserver runs a throwaway PostgreSQL server for the bench scripts:
// the server the tests start (internal/dbtest: initdb into a temp folder, a
// unix socket there, as the postgres user when run as root), but durable
// (fsync and synchronous_commit on), as production runs. It prints "url
// <superuser URL>" once the server answers, and stops it (removing its
// folder) on SIGINT or SIGTERM.
//
//	pgserver [-set name=value]...     e.g. -set synchronous_commit=off
//	pgserver createdb -admin URL -name NAME [-template T]   prints the new database's URL
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/paydesk/paydesk/internal/dbtest"
)

type settings []string

func (s *settings) String() string     { return strings.Join(*s, " ") }
func (s *settings) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	log.SetFlags(0)
	if len(os.Args) > 1 && os.Args[1] == "createdb" {
		fs := flag.NewFlagSet("createdb", flag.ExitOnError)
		admin := fs.String("admin", "", "superuser URL")
		name := fs.String("name", "", "database to create (dropped first if it exists)")
		template := fs.String("template", "", "database to copy (default an empty one)")
		_ = fs.Parse(os.Args[2:])
		if err := createdb(*admin, *name, *template); err != nil {
			log.Fatal(err)
		}
		return
	}
	var extra settings
	flag.Var(&extra, "set", "a server setting name=value (repeatable)")
	flag.Parse()
	srv, err := dbtest.Start(append(dbtest.Durable, extra...)...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("url", srv.URL("postgres"))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Stop()
}

func createdb(admin, name, template string) error {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
		return err
	}
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := db.Exec(create); err != nil {
		return err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	fmt.Println(u.String())
	return nil
}
