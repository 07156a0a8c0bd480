// Package archtest holds the tests that keep the module's layers in order:
// transport and wire import no other package of the module, codec only
// wire, session only wire, codec and transport, auth nothing above session.
// It has no code of its own.
package archtest
