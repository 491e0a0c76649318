/**
 * Every regime's parameters, in one place (docs/compliance.md cites the rule behind each).
 * The calculators (calculators.ts) read nothing else.
 */

/**
 * Why an outage is excluded: the excluded causes of 23 CFR 680.116(b)(4), which EV-ChART's
 * Module 4 asks for, under stable machine names.
 */
export const EXCLUSION_REASONS = [
  'utility_interruption',
  'vehicle_fault',
  'scheduled_maintenance',
  'vandalism',
  'natural_disaster',
  'outside_operating_hours',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** Set on an outage to overrule the scheduled-maintenance pre-fill: the outage counts in full. */
export const NOT_EXCLUDED = 'not_excluded' as const;
export type ExclusionChoice = ExclusionReason | typeof NOT_EXCLUDED;

export type RegimeName = 'nevi' | 'cec' | 'uk_pcpr' | 'operational';
export const REGIMES: readonly RegimeName[] = ['nevi', 'cec', 'uk_pcpr', 'operational'];

/** How much of one reason a regime lets a port exclude. */
export type Cap =
  /** At most this many minutes per port per calendar year, consumed in time order from 1 January. */
  | { per: 'port_year'; minutes: number }
  /** At most this many minutes of each outage. */
  | { per: 'incident'; minutes: number };

export interface Regime {
  name: RegimeName;
  /** A port passes when its uptime is strictly above (`above`) or at least (`at_least`) this percentage; null: no threshold. */
  threshold: { percent: number; comparison: 'above' | 'at_least' } | null;
  /** Reasons this regime excludes, with the cap on each (null: uncapped). */
  excluded: Partial<Record<ExclusionReason, Cap | null>>;
  /** Whether time the charger was offline (no OCPP connection) counts as down. */
  offlineIsDown: boolean;
  /** Which chargers the regime covers. */
  covers: 'all' | 'rapid';
  /** Where the rule is written (docs/compliance.md quotes nothing, it points). */
  source: string;
}

/** UK PCPR reg. 2: a rapid charge point has a power of 50 kW or above. */
export const RAPID_MIN_KW = 50;

const MINUTES_PER_DAY = 1440;

export const REGIME: Record<RegimeName, Regime> = {
  // 23 CFR 680.116(b): each port's average annual uptime greater than 97 %, computed monthly over
  // the previous 12 months; (b)(4) lists the excluded causes, uncapped.
  nevi: {
    name: 'nevi',
    threshold: { percent: 97, comparison: 'above' },
    excluded: {
      utility_interruption: null,
      vehicle_fault: null,
      scheduled_maintenance: null,
      vandalism: null,
      natural_disaster: null,
      outside_operating_hours: null,
    },
    offlineIsDown: true,
    covers: 'all',
    source: '23 CFR 680.116(b); data submittal 23 CFR 680.112(a)',
  },
  // California Energy Commission reliability standards for publicly funded DC fast chargers:
  // 97 % per port; grid power loss and natural disasters excluded, vandalism up to 10 days per
  // incident, planned maintenance up to 72 hours per year.
  cec: {
    name: 'cec',
    threshold: { percent: 97, comparison: 'at_least' },
    excluded: {
      utility_interruption: null,
      natural_disaster: null,
      vandalism: { per: 'incident', minutes: 10 * MINUTES_PER_DAY },
      scheduled_maintenance: { per: 'port_year', minutes: 72 * 60 },
    },
    offlineIsDown: true,
    covers: 'all',
    source: 'California Energy Commission, EV Charger Reliability and Reporting Regulations (Public Resources Code 25231.5)',
  },
  // UK Public Charge Point Regulations 2023, reg. 7: the rapid network reliable 99 % of the time on
  // average over each calendar year. Reliable includes "ineligible for measurement" (OCPI status
  // UNKNOWN, which is what an offline EVSE reports), so offline time is not down; no excluded causes
  // besides hours the charge point is not accessible (reg. 7(5)).
  uk_pcpr: {
    name: 'uk_pcpr',
    threshold: { percent: 99, comparison: 'at_least' },
    excluded: { outside_operating_hours: null },
    offlineIsDown: false,
    covers: 'rapid',
    source: 'The Public Charge Point Regulations 2023 (SI 2023/1168), regulations 2 and 7',
  },
  // Plain operational uptime: every minute down counts, nothing excluded, no threshold.
  operational: {
    name: 'operational',
    threshold: null,
    excluded: {},
    offlineIsDown: true,
    covers: 'all',
    source: 'docs/metrics.md (down, per port)',
  },
};
