-- the instant the marts were built for, even when they are empty (docs/definitions.md#build-as-of)

with

final as (
    select {{ as_of() }} as as_of
)

select * from final
