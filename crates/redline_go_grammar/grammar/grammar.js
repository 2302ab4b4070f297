/**
 * @file tree-sitter-go 0.25.0 extended to Go 1.26 for redline.
 * @license MIT
 *
 * The upstream grammar (tree-sitter-go 0.25.0, MIT, Copyright (c) 2014 Max
 * Brunsfeld; see ../LICENSE-tree-sitter-go) is kept verbatim in
 * ./upstream/grammar.js and extended here with tree-sitter's own
 * `grammar(base, {...})` inheritance. Everything not overridden below is
 * upstream's, unchanged.
 *
 * THE CHANGE: Go 1.26 lets the builtin `new` take an expression
 * (`new(int64(5))`, `new(1024)`, `new(T{})`, `new(5 * time.Minute)`).
 * Upstream parses `new` and `make` with `special_argument_list`, whose first
 * element must be a type, so these are ERRORs there.
 *
 *  - `make(...)` keeps upstream's `special_argument_list`, unchanged.
 *  - `new(...)` gets `new_argument_list` (exposed, like upstream's special
 *    list, as `argument_list`), whose first element is a type OR an
 *    expression.
 *  - When the operand parses both ways (`new(T)`, `new(pkg.T)`, `new(*T)`,
 *    `new((T))`, `new(G[int])`), the type reading wins through dynamic
 *    precedence, so those trees are exactly upstream's.
 *
 * Two smaller fixes of valid Go that upstream gets wrong, found by parsing
 * real repositories (see README.md):
 *  - `(make)(T, n)` and `(new)(T)` (parenthesized builtins) take the same
 *    argument lists as `make(...)` and `new(...)`; upstream only accepted
 *    expressions there.
 *  - `source_file`: a file may end in a declaration statement (`type T int`,
 *    `var ( ... )`) without a final newline; upstream added a MISSING node.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const upstream = require('./upstream/grammar.js');

// Same value as upstream's PREC.primary (not exported by upstream).
const PREC_PRIMARY = 7;

// Dynamic precedence of the type reading of `new`'s operand. It must beat
// anything the expression reading of the same text can accumulate: upstream
// uses dynamic precedences between -1 and 3 per node.
const NEW_TYPE_OPERAND = 100;

// Upstream's `terminator` (not exported by upstream).
const TERMINATOR = choice(/\n/, ';', '\0');

module.exports = grammar(upstream, {
  name: 'go',

  rules: {
    // Upstream accepts a last top-level declaration without a terminator
    // (`func f() {}` at end of file without a newline) but not a last
    // statement, so a file ending in `type T int` or `var ( ... )` without
    // a final newline got a MISSING node. Valid Go: accept both.
    source_file: $ => seq(
      repeat(choice(
        seq($._statement, TERMINATOR),
        seq($._top_level_declaration, TERMINATOR),
      )),
      optional(choice($._top_level_declaration, $._statement)),
    ),

    // Upstream:
    //   seq(field('function', alias(choice('new', 'make'), $.identifier)),
    //       field('arguments', alias($.special_argument_list, $.argument_list)))
    // split into a `make` branch (unchanged) and a `new` branch.
    call_expression: $ => prec(PREC_PRIMARY, choice(
      seq(
        field('function', alias('make', $.identifier)),
        field('arguments', alias($.special_argument_list, $.argument_list)),
      ),
      seq(
        field('function', alias('new', $.identifier)),
        field('arguments', alias($.new_argument_list, $.argument_list)),
      ),
      // `(make)(T, n)` and `(new)(T)` are valid Go too (the spec allows
      // parentheses around any operand); upstream only accepts expressions in
      // that argument list, so `(make)([]int, 0)` was an ERROR there.
      seq(
        field('function', alias($._parenthesized_make, $.parenthesized_expression)),
        field('arguments', alias($.special_argument_list, $.argument_list)),
      ),
      seq(
        field('function', alias($._parenthesized_new, $.parenthesized_expression)),
        field('arguments', alias($.new_argument_list, $.argument_list)),
      ),
      seq(
        field('function', $._expression),
        field('type_arguments', optional($.type_arguments)),
        field('arguments', $.argument_list),
      ),
    )),

    // `(make)`, `((new))`... as the function of a call. prec(1): `(make)` and
    // `(new)` are only valid Go when called, so after `( make )` this rule
    // wins over upstream's parenthesized_expression.
    _parenthesized_make: $ => prec(1, seq(
      '(',
      choice(
        alias('make', $.identifier),
        alias($._parenthesized_make, $.parenthesized_expression),
      ),
      ')',
    )),

    _parenthesized_new: $ => prec(1, seq(
      '(',
      choice(
        alias('new', $.identifier),
        alias($._parenthesized_new, $.parenthesized_expression),
      ),
      ')',
    )),

    // Upstream's special_argument_list with `$._type` widened to
    // `choice($._type, $._expression)`.
    new_argument_list: $ => seq(
      '(',
      optional(seq(
        choice(
          prec.dynamic(NEW_TYPE_OPERAND, $._type),
          $._expression,
        ),
        repeat(seq(',', $._expression)),
        optional(','),
      )),
      ')',
    ),
  },
});
