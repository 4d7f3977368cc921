%%% @doc Test-only stand-in for HyperBEAM's hb_json (which wraps OTP 27's json module):
%%% decode/1 raises on malformed JSON, encode/1 returns iodata.
-module(hb_json).
-export([encode/1, decode/1]).

encode(Term) -> kem_json:encode(Term).

decode(Bin) ->
    case kem_json:decode(Bin) of
        {ok, Term} -> Term;
        {error, Reason} -> erlang:error({invalid_json, Reason})
    end.
