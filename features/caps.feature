Feature: Spending caps
  A team sets limits on what its LLM calls may cost, for everything or for one
  provider, model, agent or customer, per day, week or month. Block caps stop
  the call that would pass the limit; alert caps only warn.

  Background:
    Given the time is 2026-03-18 10:00 UTC

  Scenario: A customer cap of $10 per month blocks the call that would exceed it
    Given a block cap of $10.00 per monthly window on customer "cus_42"
    And customer "cus_42" has spent $9.95 this month
    When customer "cus_42" asks to make a call estimated at $0.04
    Then the call is allowed
    When customer "cus_42" asks to make a call estimated at $0.02
    Then the call is refused by that cap
    And customer "cus_7" may still make a call estimated at $5.00

  Scenario Outline: Every scope limits only the calls it matches
    Given a block cap of $1.00 per daily window on <scope> "<value>"
    And $1.00 was spent by provider "openai" model "gpt-4o" agent "planner/research" customer "cus_1"
    When provider "<provider>" model "<model>" agent "<agent>" customer "<customer>" asks to spend $0.01
    Then the call is <verdict>

    Examples:
      | scope    | value     | provider  | model       | agent    | customer | verdict |
      | global   | -         | anthropic | claude-x    | other    | cus_9    | refused |
      | provider | openai    | openai    | gpt-4o-mini | other    | cus_9    | refused |
      | provider | openai    | anthropic | gpt-4o      | planner  | cus_1    | allowed |
      | model    | gpt-4o    | openai    | gpt-4o      | other    | cus_9    | refused |
      | model    | gpt-4o    | openai    | gpt-4o-mini | planner  | cus_1    | allowed |
      | agent    | research  | openai    | gpt-4o-mini | research | cus_9    | refused |
      | agent    | research  | openai    | gpt-4o      | writer   | cus_1    | allowed |
      | customer | cus_1     | xai       | grok-3      | -        | cus_1    | refused |
      | customer | cus_1     | openai    | gpt-4o      | planner  | cus_2    | allowed |

  Scenario Outline: Spend from the previous window does not count in the next one
    Given a block cap of $1.00 per <period> window on global "-"
    And $1.00 was spent just before the window that starts at <next_start>
    When the time is <next_start>
    Then a call estimated at $0.50 is allowed
    And the cap shows $0.00 spent

    Examples:
      | period  | next_start              |
      | daily   | 2026-03-19 00:00 UTC    |
      | weekly  | 2026-03-23 00:00 UTC    |
      | monthly | 2026-04-01 00:00 UTC    |

  Scenario: A window follows the cap's own time zone
    Given a block cap of $1.00 per daily window on global "-" in "America/New_York"
    And $1.00 was spent at 2026-03-18 03:59 UTC
    When the time is 2026-03-18 04:00 UTC
    Then a call estimated at $0.50 is allowed

  Scenario: An alert cap never blocks, but each threshold alerts once
    Given an alert cap of $1.00 per monthly window on global "-" with thresholds 50, 80, 100
    When $0.60 is spent
    And $0.30 is spent
    And $0.30 is spent
    And the monitor runs twice
    Then a call estimated at $5.00 is allowed
    And exactly these alerts exist: 50, 80, 100

  Scenario: Concurrent reservations cannot jointly overshoot a cap
    Given a block cap of $5.00 per monthly window on global "-"
    When 1000 calls estimated at $0.01 each ask at the same time
    Then exactly 500 are allowed
    When every allowed call settles at its estimate
    Then the cap shows $5.00 spent and $0.00 reserved

  Scenario: Calls that fail after reserving leak nothing
    Given a block cap of $5.00 per monthly window on global "-"
    When 200 calls estimated at $0.01 each ask at the same time
    And 5 percent of them fail and release, and 5 percent are abandoned
    And the rest settle at their estimate
    And the abandoned reservations expire
    Then the cap shows $1.80 spent and $0.00 reserved
