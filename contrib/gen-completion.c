/* gen-completion.c — writes the bash completion of the parceldesk client on
 * stdout, generated from the command table HELP describes (commands.def as
 * parsed by pd_commands_init): command words, sub-commands, each command's
 * named arguments and the values of its enum and yes/no arguments. The
 * Makefile runs it into build/parceldesk.bash; `make install` and the
 * Debian package install that as bash-completion's `parceldesk`.
 *
 *   build/contrib/gen-completion > parceldesk.bash
 *
 * The completion itself is the shell function _parceldesk below: it reads
 * COMP_WORDS and COMP_CWORD only, and copes with bash splitting name=value
 * at '=' (COMP_WORDBREAKS) or not. Typed in lower case, it completes in
 * lower case (the daemon takes command words in any case). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "command.h"

/* `case` patterns are the command's words as typed, upper-cased. */
static void name_of(const struct pd_command *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", c->word, c->sub ? " " : "", c->sub ? c->sub : "");
}

static void print_values(const struct pd_arg_spec *s)
{
	if (s->type == ARG_BOOL) {
		fputs("yes no", stdout);
		return;
	}
	for (int v = 0; v < s->enum_count; v++)
		printf("%s%s", v ? " " : "", s->enum_values[v]);
}

static bool has_values(const struct pd_arg_spec *s)
{
	return s->type == ARG_BOOL || (s->type == ARG_ENUM && s->enum_count > 0);
}

static void words(const struct pd_command *t, size_t n)
{
	fputs("_parceldesk_words='", stdout);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(t[i].word, t[j].word) == 0;
		if (!seen)
			printf("%s%s", i ? " " : "", t[i].word);
	}
	puts("'");
}

static void subs(const struct pd_command *t, size_t n)
{
	puts("_parceldesk_subs() {\n\tcase \"$1\" in");
	for (size_t i = 0; i < n; i++) {
		if (!t[i].sub || (i && t[i - 1].sub && !strcmp(t[i - 1].word, t[i].word)))
			continue; /* a word's sub-commands are together in the table */
		printf("\t%s) echo '", t[i].word);
		for (size_t j = i; j < n && t[j].sub && !strcmp(t[j].word, t[i].word); j++)
			printf("%s%s", j > i ? " " : "", t[j].sub);
		puts("' ;;");
	}
	puts("\tesac\n}");
}

/* A shell function that is one `case` on its argument; arms() prints
 * the arms of each command. */
static void case_function(const char *fn, const struct pd_command *t, size_t n,
			  void (*arms)(const struct pd_command *c, const char *name))
{
	char name[96];
	printf("%s() {\n\tcase \"$1\" in\n", fn);
	for (size_t i = 0; i < n; i++) {
		name_of(&t[i], name, sizeof(name));
		arms(&t[i], name);
	}
	puts("\tesac\n}");
}

/* The named arguments of a command ("name="); a write's req= too. */
static void named_arm(const struct pd_command *c, const char *name)
{
	printf("\t'%s') echo '", name);
	bool first = true;
	for (int a = 0; a < c->arg_count; a++)
		if (!c->arg[a].positional) {
			printf("%s%s=", first ? "" : " ", c->arg[a].name);
			first = false;
		}
	if (c->flags & CMD_WRITE)
		printf("%sreq=", first ? "" : " ");
	puts("' ;;");
}

/* The values of "COMMAND name" (a named argument) or "COMMAND #N" (the
 * N-th positional, from 1). */
static void values_arms(const struct pd_command *c, const char *name)
{
	int pos = 0;
	for (int a = 0; a < c->arg_count; a++) {
		const struct pd_arg_spec *s = &c->arg[a];
		pos += s->positional;
		if (!has_values(s))
			continue;
		if (s->positional)
			printf("\t'%s #%d') echo '", name, pos);
		else
			printf("\t'%s %s') echo '", name, s->name);
		print_values(s);
		puts("' ;;");
	}
}

/* The completion function: fixed text, the data above is generated. */
static const char completion[] =
	"# Options that take a value: their value is not a command word.\n"
	"_parceldesk_option_arg='-h|--host|-p|--port|-u|--user|-P|--password|--tls-ca'\n"
	"\n"
	"_parceldesk() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\tlocal i w cmd='' nwords=0 npos=0 lower=''\n"
	"\tCOMPREPLY=()\n"
	"\t# name=value split by bash at '=': complete the value of name\n"
	"\tlocal arg='' before=''\n"
	"\tif [ \"$cur\" = = ]; then\n"
	"\t\targ=$prev; cur=''; before='='\n"
	"\telif [ \"$prev\" = = ] && [ \"$COMP_CWORD\" -ge 2 ]; then\n"
	"\t\targ=${COMP_WORDS[COMP_CWORD-2]}\n"
	"\telif [[ $cur == *=* ]]; then\n"
	"\t\targ=${cur%%=*}; before=\"$arg=\"; cur=${cur#*=}\n"
	"\tfi\n"
	"\t# the command words typed so far, and how many positionals follow\n"
	"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tif [[ $w == -* ]]; then\n"
	"\t\t\t[[ $w == @($_parceldesk_option_arg) ]] && ((i++))\n"
	"\t\t\tcontinue\n"
	"\t\tfi\n"
	"\t\t[ \"$w\" = = ] && { ((i++)); continue; }\n"
	"\t\t[ \"${COMP_WORDS[i+1]}\" = = ] && continue\n"
	"\t\t[[ $w == *=* ]] && continue\n"
	"\t\tw=${w^^}\n"
	"\t\tif [ $nwords = 0 ]; then cmd=$w; nwords=1\n"
	"\t\telif [ $nwords = 1 ] && [[ \" $(_parceldesk_subs \"$cmd\") \" == *\" $w \"* ]]; then\n"
	"\t\t\tcmd=\"$cmd $w\"; nwords=2\n"
	"\t\telse ((npos++)); fi\n"
	"\tdone\n"
	"\t[[ $cur != *[A-Z]* && -n $cur ]] && lower=1\n"
	"\tlocal words\n"
	"\tif [ -n \"$arg\" ]; then\n"
	"\t\twords=$(_parceldesk_values \"$cmd ${arg,,}\")\n"
	"\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	"\t\t# bash did not split at '=': the reply replaces the whole word\n"
	"\t\t[ \"$before\" != = ] && [ -n \"$before\" ] && COMPREPLY=(\"${COMPREPLY[@]/#/$before}\")\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W '--host --port --user --password --json --raw --human --csv --tls --tls-ca --version --help' -- \"$cur\"))\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif [ $nwords = 0 ]; then\n"
	"\t\twords=$_parceldesk_words\n"
	"\telif [ $nwords = 1 ] && [ -n \"$(_parceldesk_subs \"$cmd\")\" ]; then\n"
	"\t\twords=$(_parceldesk_subs \"$cmd\")\n"
	"\telse\n"
	"\t\twords=\"$(_parceldesk_values \"$cmd #$((npos + 1))\") $(_parceldesk_named \"$cmd\")\"\n"
	"\t\tlower=''\n"
	"\tfi\n"
	"\t[ -n \"$lower\" ] && words=${words,,}\n"
	"\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	"\t# name= waits for its value: no space after it\n"
	"\t[[ ${#COMPREPLY[@]} = 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null\n"
	"\treturn 0\n"
	"}\n"
	"complete -F _parceldesk parceldesk\n";

int main(void)
{
	if (pd_commands_init() < 0)
		return 1;
	size_t n;
	const struct pd_command *t = pd_command_table(&n);
	puts("# bash completion for parceldesk(1); generated by contrib/gen-completion.c\n"
	     "# from the daemon's command table (what HELP shows): do not edit.");
	words(t, n);
	subs(t, n);
	case_function("_parceldesk_named", t, n, named_arm);
	case_function("_parceldesk_values", t, n, values_arms);
	fputs(completion, stdout);
	return 0;
}
