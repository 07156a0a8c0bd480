// Package archtest holds the tests that keep the module's layers in order.
// The guard is default-deny: every package of the module must match a row
// of the table in layers_test.go, and a row covers its sub-packages (a row
// for "wire" governs "wire/sub" too). A row lists the module packages and
// the modules outside the standard library that the row's non-test code may
// import. In short: transport and wire import no other package of the
// module but internal/printable (escaping for error messages), which any
// library layer may import; codec only wire (and internal/workhook, the
// hooks through which tests count its SeqSet's work, and internal/seqrange,
// the order and searches of its ranges, which commands shares); session
// wire, codec and transport; auth nothing above session (plus go-sasl);
// commands nothing above auth; cmd/... any library layer and internal/testserver; internal/... what its row says. No
// package but the test kits may link the testing package, so the CLI binary
// never does. doc_test.go keeps another rule of the brief: every exported
// name of the library has a doc comment. The package has no code of its
// own.
package archtest
